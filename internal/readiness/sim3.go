package readiness

import (
	"context"
	"database/sql"
	"slices"
	"sort"
	"strings"
	"time"

	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// SIM3 is the Security Incident Management Maturity Model (Open CSIRT
// Foundation, v1): parameters in four categories, each scored 0 (not
// available) · 1 implicit · 2 explicit, internal · 3 formalised by the
// team's head · 4 audited by governance. The list below is SIM3 v1's
// 44 parameters (O-6 is not used in v1).

// Sim3Param is one parameter.
type Sim3Param struct {
	ID       string `json:"id"`       // e.g. "O-1"
	Category string `json:"category"` // O, H, T, P
	Name     string `json:"name"`     // English name; the UI shows the catalogue's sim3.param.<id>
}

// Sim3Categories in order.
var Sim3Categories = []string{"O", "H", "T", "P"}

// Sim3Params is the SIM3 v1 parameter list.
var Sim3Params = []Sim3Param{
	{"O-1", "O", "Mandate"},
	{"O-2", "O", "Constituency"},
	{"O-3", "O", "Authority"},
	{"O-4", "O", "Responsibility"},
	{"O-5", "O", "Service Description"},
	{"O-7", "O", "Service Level Description"},
	{"O-8", "O", "Incident Classification"},
	{"O-9", "O", "Integration in existing CSIRT systems"},
	{"O-10", "O", "Organisational Framework"},
	{"O-11", "O", "Security Policy"},
	{"H-1", "H", "Code of Conduct / Practice / Ethics"},
	{"H-2", "H", "Personnel Resilience"},
	{"H-3", "H", "Skillset Description"},
	{"H-4", "H", "Internal Training"},
	{"H-5", "H", "(External) Technical Training"},
	{"H-6", "H", "(External) Communication Training"},
	{"H-7", "H", "External Networking"},
	{"T-1", "T", "IT Resources List"},
	{"T-2", "T", "Information Sources List"},
	{"T-3", "T", "Consolidated E-mail System"},
	{"T-4", "T", "Incident Tracking System"},
	{"T-5", "T", "Resilient Phone"},
	{"T-6", "T", "Resilient E-mail"},
	{"T-7", "T", "Resilient Internet Access"},
	{"T-8", "T", "Incident Prevention Toolset"},
	{"T-9", "T", "Incident Detection Toolset"},
	{"T-10", "T", "Incident Resolution Toolset"},
	{"P-1", "P", "Escalation to Governance Level"},
	{"P-2", "P", "Escalation to Press Function"},
	{"P-3", "P", "Escalation to Legal Function"},
	{"P-4", "P", "Incident Prevention Process"},
	{"P-5", "P", "Incident Detection Process"},
	{"P-6", "P", "Incident Resolution Process"},
	{"P-7", "P", "Specific Incident Processes"},
	{"P-8", "P", "Audit / Feedback Process"},
	{"P-9", "P", "Emergency Reachability Process"},
	{"P-10", "P", "Best Practice Internet Presence"},
	{"P-11", "P", "Secure Information Handling Process"},
	{"P-12", "P", "Information Sources Process"},
	{"P-13", "P", "Outreach Process"},
	{"P-14", "P", "Reporting Process"},
	{"P-15", "P", "Statistics Process"},
	{"P-16", "P", "Meeting Process"},
	{"P-17", "P", "Peer-to-peer Process"},
}

// Sim3MaxLevel is the highest level.
const Sim3MaxLevel = 4

func sim3Param(id string) (Sim3Param, bool) {
	i := slices.IndexFunc(Sim3Params, func(p Sim3Param) bool { return p.ID == id })
	if i < 0 {
		return Sim3Param{}, false
	}
	return Sim3Params[i], true
}

// Sim3Score is one parameter's level with its evidence.
type Sim3Score struct {
	Param    string `json:"param"`
	Level    int    `json:"level"`
	Evidence string `json:"evidence,omitempty"`
}

// Sim3Assessment is one self-assessment of a team.
type Sim3Assessment struct {
	ID         int64       `json:"id"`
	TeamID     int64       `json:"team_id"`
	AssessedOn time.Time   `json:"assessed_on"`
	Assessor   string      `json:"assessor,omitempty"`
	Note       string      `json:"note,omitempty"`
	Total      int         `json:"total"`
	CreatedBy  int64       `json:"created_by,omitempty"`
	CreatedAt  time.Time   `json:"created_at"`
	Scores     []Sim3Score `json:"scores"`
}

// Average is the mean level over every parameter (unscored count as 0).
func (x Sim3Assessment) Average() float64 {
	return float64(x.Total) / float64(len(Sim3Params))
}

// CategoryAverage is the mean level of one category.
func (x Sim3Assessment) CategoryAverage(cat string) float64 {
	n, sum := 0, 0
	for _, p := range Sim3Params {
		if p.Category != cat {
			continue
		}
		n++
		for _, s := range x.Scores {
			if s.Param == p.ID {
				sum += s.Level
			}
		}
	}
	if n == 0 {
		return 0
	}
	return float64(sum) / float64(n)
}

// Sim3Input is a new assessment; Scores are keyed by parameter id, every
// parameter must be scored.
type Sim3Input struct {
	AssessedOn time.Time
	Assessor   string
	Note       string
	Scores     map[string]Sim3Score
}

// Assess records a SIM3 self-assessment of the team.
func (s *Service) Assess(ctx context.Context, a policy.Actor, teamID int64, in Sim3Input) (Sim3Assessment, error) {
	const op = "readiness: sim3 assess"
	in.Assessor, in.Note, in.AssessedOn = strings.TrimSpace(in.Assessor), strings.TrimSpace(in.Note), day(in.AssessedOn)
	var out Sim3Assessment
	err := s.tx(ctx, op, func(tx *store.Tx, now time.Time) error {
		t, err := loadTeam(ctx, tx, teamID)
		if err != nil {
			return err
		}
		if err := check(a, policy.ReadinessAssess, t.OrgID); err != nil {
			return err
		}
		v := errs.Invalid(op)
		date(v, "assessed_on", in.AssessedOn, now, true, 0)
		text(v, "assessor", in.Assessor, maxName, false)
		text(v, "note", in.Note, maxText, false)
		for id := range in.Scores {
			if _, ok := sim3Param(id); !ok {
				v.Field("scores", "readiness.err.sim3_param", id)
			}
		}
		out = Sim3Assessment{TeamID: teamID, AssessedOn: in.AssessedOn, Assessor: in.Assessor, Note: in.Note,
			CreatedBy: a.UserID, CreatedAt: now}
		for _, p := range Sim3Params {
			sc, ok := in.Scores[p.ID]
			field := "level_" + p.ID
			if !ok {
				v.Field(field, "readiness.err.required")
				continue
			}
			sc.Param, sc.Evidence = p.ID, strings.TrimSpace(sc.Evidence)
			if sc.Level < 0 || sc.Level > Sim3MaxLevel {
				v.Field(field, "readiness.err.sim3_level", Sim3MaxLevel)
			}
			text(v, "evidence_"+p.ID, sc.Evidence, maxText, false)
			out.Total += sc.Level
			out.Scores = append(out.Scores, sc)
		}
		if err := v.OrNil(); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO readiness_sim3 (team_id, assessed_on, assessor, note, total, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, teamID, out.AssessedOn, out.Assessor, out.Note, out.Total,
			store.NullID(a.UserID), now).Scan(&out.ID); err != nil {
			return err
		}
		for _, sc := range out.Scores {
			if _, err := tx.Exec(ctx, `INSERT INTO readiness_sim3_scores (assessment_id, param, level, evidence) VALUES (?, ?, ?, ?)`,
				out.ID, sc.Param, sc.Level, sc.Evidence); err != nil {
				return err
			}
		}
		return record(ctx, tx, now, a, t.OrgID, "readiness.sim3.assess", "readiness_sim3", out.ID, nil, out)
	})
	return out, err
}

// Assessments lists the team's assessments, newest first, with their scores.
func (s *Service) Assessments(ctx context.Context, a policy.Actor, teamID int64) ([]Sim3Assessment, error) {
	const op = "readiness: sim3 assessments"
	t, err := loadTeam(ctx, s.DB, teamID)
	if err != nil {
		return nil, store.Wrap(op, err)
	}
	if err := check(a, policy.ReadinessRead, t.OrgID); err != nil {
		return nil, err
	}
	out, err := s.assessments(ctx, "x.team_id = ?", teamID)
	return out, store.Wrap(op, err)
}

// assessments loads the assessments matching where (over x and its team t),
// newest first, with their scores.
func (s *Service) assessments(ctx context.Context, where string, args ...any) ([]Sim3Assessment, error) {
	rows, err := s.DB.Query(ctx, `SELECT x.id, x.team_id, x.assessed_on, x.assessor, x.note, x.total, x.created_by, x.created_at
		FROM readiness_sim3 x JOIN readiness_teams t ON t.id = x.team_id WHERE `+where+` ORDER BY x.assessed_on DESC, x.id DESC`, args...)
	if err != nil {
		return nil, err
	}
	var out []Sim3Assessment
	byID := map[int64]int{}
	for rows.Next() {
		var x Sim3Assessment
		var by sql.NullInt64
		if err := rows.Scan(&x.ID, &x.TeamID, &x.AssessedOn, &x.Assessor, &x.Note, &x.Total, &by, &x.CreatedAt); err != nil {
			rows.Close()
			return nil, err
		}
		x.CreatedBy, x.AssessedOn, x.CreatedAt = by.Int64, x.AssessedOn.UTC(), x.CreatedAt.UTC()
		byID[x.ID] = len(out)
		out = append(out, x)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, nil
	}
	rows, err = s.DB.Query(ctx, `SELECT sc.assessment_id, sc.param, sc.level, sc.evidence FROM readiness_sim3_scores sc
		JOIN readiness_sim3 x ON x.id = sc.assessment_id JOIN readiness_teams t ON t.id = x.team_id WHERE `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var sc Sim3Score
		if err := rows.Scan(&id, &sc.Param, &sc.Level, &sc.Evidence); err != nil {
			return nil, err
		}
		if i, ok := byID[id]; ok {
			out[i].Scores = append(out[i].Scores, sc)
		}
	}
	order := map[string]int{}
	for i, p := range Sim3Params {
		order[p.ID] = i
	}
	for i := range out {
		slices.SortFunc(out[i].Scores, func(a, b Sim3Score) int { return order[a.Param] - order[b.Param] })
	}
	return out, rows.Err()
}

// MaturityRow is the maturity of a group of teams (a province or a sector):
// the average of each team's latest assessment.
type MaturityRow struct {
	Key        string             `json:"key"` // province code or sector
	Label      string             `json:"label"`
	Teams      int                `json:"teams"`
	Assessed   int                `json:"assessed"`
	Average    float64            `json:"average"`
	Categories map[string]float64 `json:"categories"`
}

// Maturity is the network's SIM3 maturity in the actor's scope.
type Maturity struct {
	ByProvince []MaturityRow `json:"by_province"`
	BySector   []MaturityRow `json:"by_sector"`
}

// Maturity groups the latest assessment of each team in scope by the team
// organisation's province and sector.
func (s *Service) Maturity(ctx context.Context, a policy.Actor) (Maturity, error) {
	const op = "readiness: maturity"
	where, args := scopeWhere(a, "t.org_id")
	rows, err := s.DB.Query(ctx, `SELECT t.id, t.org_id, COALESCE(o.province_code, ''), COALESCE(pr.name, ''), o.sector
		FROM readiness_teams t JOIN organisations o ON o.id = t.org_id LEFT JOIN provinces pr ON pr.code = o.province_code
		WHERE `+where, args...)
	if err != nil {
		return Maturity{}, errs.Internal(op, err)
	}
	type teamInfo struct{ prov, provName, sector string }
	teams := map[int64]teamInfo{}
	for rows.Next() {
		var id, orgID int64
		var ti teamInfo
		if err := rows.Scan(&id, &orgID, &ti.prov, &ti.provName, &ti.sector); err != nil {
			rows.Close()
			return Maturity{}, errs.Internal(op, err)
		}
		if policy.Check(a, policy.ReadinessRead, Resource(orgID)) == nil {
			teams[id] = ti
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Maturity{}, errs.Internal(op, err)
	}
	// Only each team's latest assessment, not its history.
	xs, err := s.assessments(ctx, where+` AND x.id = (SELECT l.id FROM readiness_sim3 l WHERE l.team_id = x.team_id
		ORDER BY l.assessed_on DESC, l.id DESC LIMIT 1)`, args...)
	if err != nil {
		return Maturity{}, errs.Internal(op, err)
	}
	latest := map[int64]Sim3Assessment{}
	for _, x := range xs {
		latest[x.TeamID] = x
	}
	group := func(key func(teamInfo) (string, string)) []MaturityRow {
		rowsBy := map[string]*MaturityRow{}
		for id, ti := range teams {
			k, label := key(ti)
			r := rowsBy[k]
			if r == nil {
				r = &MaturityRow{Key: k, Label: label, Categories: map[string]float64{}}
				rowsBy[k] = r
			}
			r.Teams++
			if x, ok := latest[id]; ok {
				r.Assessed++
				r.Average += x.Average()
				for _, c := range Sim3Categories {
					r.Categories[c] += x.CategoryAverage(c)
				}
			}
		}
		out := make([]MaturityRow, 0, len(rowsBy))
		for _, r := range rowsBy {
			if r.Assessed > 0 {
				r.Average /= float64(r.Assessed)
				for c := range r.Categories {
					r.Categories[c] /= float64(r.Assessed)
				}
			}
			out = append(out, *r)
		}
		sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
		return out
	}
	return Maturity{
		ByProvince: group(func(t teamInfo) (string, string) { return t.prov, t.provName }),
		BySector:   group(func(t teamInfo) (string, string) { return t.sector, t.sector }),
	}, nil
}
