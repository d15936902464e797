package api_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"certnet/internal/infosys"
	"certnet/internal/policy"
)

func init() { addMatrixRoutes(infosysImportMatrix) }

// decideOwnInfosys: an action on the actor's own organisation.
func decideOwnInfosys(act policy.Action, tlp policy.TLP) func(c *mCase) error {
	return func(c *mCase) error {
		return policy.Check(c.a.actor, act, policy.Resource{OwnerOrg: c.a.actor.OrgID, TLP: tlp})
	}
}

func mxHoliday(c *mCase) string {
	return time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, c.n%20000).Format(time.DateOnly)
}

var infosysImportMatrix = map[string]mRoute{
	"POST /api/v1/infosys/systems/import": {
		// A dry run of a file with one system of the target: the import
		// is the actor's right, the row is checked against the target.
		req: func(_ *testing.T, c *mCase) (string, string) {
			return "/api/v1/infosys/systems/import?dry_run=1&format=csv", fmt.Sprintf("owner_code,name\n%s,Hệ thống nhập %d\n", c.t.org.Code, c.n)
		},
		decide: decideOwnInfosys(policy.InfosysWrite, policy.TLPAmber),
	},
	"GET /api/v1/infosys/systems/{sid}/history": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return fmt.Sprintf("/api/v1/infosys/systems/%d/history", mxSystem(t, c).ID), ""
		},
		decide: decideInfosys(),
	},
	"GET /api/v1/infosys/systems/{sid}/attachments": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return fmt.Sprintf("/api/v1/infosys/systems/%d/attachments", mxSystem(t, c).ID), ""
		},
		decide: decideInfosys(),
	},
	"POST /api/v1/infosys/systems/{sid}/attachments": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return fmt.Sprintf("/api/v1/infosys/systems/%d/attachments?name=thiet-ke.txt&kind=design", mxSystem(t, c).ID), "Thiết kế"
		},
		decide: decideInfosys(policy.InfosysWrite),
	},
	"GET /api/v1/infosys/attachments/{aid}": {
		req: func(t *testing.T, c *mCase) (string, string) {
			x, err := c.m.e.App.Infosys.Attach(c.m.ctx, c.m.e.Sys, mxSystem(t, c).ID, infosys.AttachmentInput{Name: "a.txt",
				Body: strings.NewReader("tài liệu")})
			if err != nil {
				t.Fatal(err)
			}
			return fmt.Sprintf("/api/v1/infosys/attachments/%d", x.ID), ""
		},
		decide: decideInfosys(),
	},
	"GET /api/v1/infosys/holidays": {
		req:    static("/api/v1/infosys/holidays?year=2026", ""),
		decide: decideOwnInfosys(policy.InfosysRead, policy.TLPAmber),
	},
	"PUT /api/v1/infosys/holidays/{day}": {
		req: func(_ *testing.T, c *mCase) (string, string) {
			return "/api/v1/infosys/holidays/" + mxHoliday(c), jsonBody(map[string]any{"name": "Ngày nghỉ thử"})
		},
		decide: decideOwnInfosys(policy.RegistryEdit, policy.TLPGreen),
	},
	"DELETE /api/v1/infosys/holidays/{day}": {
		req: func(t *testing.T, c *mCase) (string, string) {
			day := mxHoliday(c)
			if err := c.m.e.App.Infosys.SetHoliday(c.m.ctx, c.m.e.Sys, infosys.Holiday{Day: day, Name: "Ngày nghỉ thử"}); err != nil {
				t.Fatal(err)
			}
			return "/api/v1/infosys/holidays/" + day, ""
		},
		decide: decideOwnInfosys(policy.RegistryEdit, policy.TLPGreen),
	},
}
