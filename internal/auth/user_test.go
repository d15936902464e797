package auth

import (
	"slices"
	"strings"
	"testing"
	"time"

	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

func TestCreateUserValidation(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.user(t, f.province, "lan.nguyen", policy.RoleAnalyst)
		base := func() UserInput {
			return UserInput{OrgID: f.province, Username: "minh.tran", DisplayName: "Trần Văn Minh",
				Email: "minh@hanoi.gov.vn", Roles: []policy.Role{policy.RoleViewer}, Password: goodPassword}
		}
		cases := []struct {
			name  string
			edit  func(*UserInput)
			kind  errs.Kind
			field string
			key   string
		}{
			{"duplicate username", func(in *UserInput) { in.Username = "lan.nguyen" }, errs.KindConflict, "username", "auth.err.username_taken"},
			{"duplicate username in other case", func(in *UserInput) { in.Username = " Lan.Nguyen " }, errs.KindConflict, "username", "auth.err.username_taken"},
			{"username too short", func(in *UserInput) { in.Username = "ab" }, errs.KindInvalid, "username", "auth.err.username_invalid"},
			{"username with accent", func(in *UserInput) { in.Username = "minh.trần" }, errs.KindInvalid, "username", "auth.err.username_invalid"},
			{"username starting with dash", func(in *UserInput) { in.Username = "-minh" }, errs.KindInvalid, "username", "auth.err.username_invalid"},
			{"username too long", func(in *UserInput) { in.Username = strings.Repeat("a", 65) }, errs.KindInvalid, "username", "auth.err.username_invalid"},
			{"no username", func(in *UserInput) { in.Username = "" }, errs.KindInvalid, "username", "field.required"},
			{"short password", func(in *UserInput) { in.Password = "Ng4n-qu4!" }, errs.KindInvalid, "password", "auth.err.password_too_short"},
			{"common password", func(in *UserInput) { in.Password = "qwerty123456" }, errs.KindInvalid, "password", "auth.err.password_common"},
			{"common word dressed up", func(in *UserInput) { in.Password = "Password2024!" }, errs.KindInvalid, "password", "auth.err.password_common"},
			{"repetitive password", func(in *UserInput) { in.Password = "abababababababab" }, errs.KindInvalid, "password", "auth.err.password_common"},
			{"password is username", func(in *UserInput) { in.Username, in.Password = "minh.tran.2026", "Minh.Tran.2026" }, errs.KindInvalid, "password", "auth.err.password_is_username"},
			{"password too long", func(in *UserInput) { in.Password = strings.Repeat("xY7-", 65) }, errs.KindInvalid, "password", "auth.err.password_too_long"},
			{"no role", func(in *UserInput) { in.Roles = nil }, errs.KindInvalid, "roles", "auth.err.role_required"},
			{"unknown role", func(in *UserInput) { in.Roles = []policy.Role{"root"} }, errs.KindInvalid, "roles", "field.invalid_choice"},
			{"bad email", func(in *UserInput) { in.Email = "Minh <minh@hanoi.gov.vn>" }, errs.KindInvalid, "email", "field.invalid_email"},
			{"bad locale", func(in *UserInput) { in.Locale = "fr" }, errs.KindInvalid, "locale", "field.invalid_choice"},
			{"unknown org", func(in *UserInput) { in.OrgID = 99999 }, errs.KindInvalid, "org_id", "field.invalid_choice"},
			{"display name too long", func(in *UserInput) { in.DisplayName = strings.Repeat("Đ", 201) }, errs.KindInvalid, "display_name", "field.too_long"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				in := base()
				c.edit(&in)
				_, err := f.svc.CreateUser(ctx, f.system, in)
				wantKind(t, err, c.kind)
				wantField(t, err, c.field, c.key)
			})
		}

		t.Run("valid", func(t *testing.T) {
			in := base()
			in.Username = "  Minh.Tran "
			in.Roles = []policy.Role{policy.RoleViewer, policy.RoleAnalyst, policy.RoleViewer}
			u, err := f.svc.CreateUser(ctx, f.system, in)
			noErr(t, err)
			if u.ID == 0 || u.Username != "minh.tran" || u.Locale != "vi" || u.OrgID != f.province {
				t.Fatalf("created %+v", u)
			}
			if !slices.Equal(u.Roles, []policy.Role{policy.RoleAnalyst, policy.RoleViewer}) {
				t.Fatalf("roles %v", u.Roles)
			}
			got, err := f.svc.GetUser(ctx, f.system, u.ID)
			noErr(t, err)
			if got.DisplayName != "Trần Văn Minh" || !slices.Equal(got.Roles, u.Roles) || !got.CreatedAt.Equal(start) {
				t.Fatalf("read back %+v", got)
			}
			var hash string
			noErr(t, db.QueryRow(ctx, "SELECT password_hash FROM users WHERE id = ?", u.ID).Scan(&hash))
			if !strings.HasPrefix(hash, "$argon2id$") || strings.Contains(hash, goodPassword) {
				t.Fatalf("stored hash %q", hash)
			}
		})
		if countAudit(t, db, "user.create") != 2 {
			t.Fatal("want two user.create entries (the failures write none)")
		}
		verifyAudit(t, db)
	})
}

func TestUserPermissions(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		provAdmin := f.actor(t, f.user(t, f.province, "admin.hn", policy.RoleAdmin))
		natAdmin := f.actor(t, f.user(t, f.national, "admin.ncsc", policy.RoleAdmin))
		auditor := f.actor(t, f.user(t, f.province, "auditor.hn", policy.RoleAuditor))
		viewerU := f.user(t, f.province, "viewer.hn", policy.RoleViewer)
		viewer := f.actor(t, viewerU)
		cityUser := f.user(t, f.city, "analyst.ioc", policy.RoleAnalyst)
		otherUser := f.user(t, f.other, "analyst.dn", policy.RoleAnalyst)

		newIn := func(org int64, name string) UserInput {
			return UserInput{OrgID: org, Username: name, Roles: []policy.Role{policy.RoleViewer}, Password: goodPassword}
		}

		t.Run("admin creates in subtree", func(t *testing.T) {
			u, err := f.svc.CreateUser(ctx, provAdmin, newIn(f.city, "new.ioc"))
			noErr(t, err)
			if u.OrgID != f.city {
				t.Fatal(u)
			}
		})
		t.Run("zero org means the admin's own", func(t *testing.T) {
			u, err := f.svc.CreateUser(ctx, provAdmin, newIn(0, "new.hn"))
			noErr(t, err)
			if u.OrgID != f.province {
				t.Fatal(u)
			}
		})
		t.Run("admin cannot create outside scope", func(t *testing.T) {
			_, err := f.svc.CreateUser(ctx, provAdmin, newIn(f.other, "intruder"))
			if k := errs.KindOf(err); k != errs.KindNotFound && k != errs.KindForbidden {
				t.Fatalf("got %v", err)
			}
		})
		t.Run("viewer cannot create", func(t *testing.T) {
			_, err := f.svc.CreateUser(ctx, viewer, newIn(f.province, "sneaky"))
			wantKind(t, err, errs.KindForbidden)
		})
		t.Run("auditor cannot write", func(t *testing.T) {
			_, err := f.svc.CreateUser(ctx, auditor, newIn(f.province, "sneaky2"))
			wantKind(t, err, errs.KindForbidden)
			_, err = f.svc.UpdateUser(ctx, auditor, cityUser.ID, UserInput{Roles: []policy.Role{policy.RoleAdmin}})
			wantKind(t, err, errs.KindForbidden)
			wantKind(t, f.svc.SetDisabled(ctx, auditor, cityUser.ID, true), errs.KindForbidden)
		})
		t.Run("auditor reads in scope only", func(t *testing.T) {
			_, err := f.svc.GetUser(ctx, auditor, cityUser.ID)
			noErr(t, err)
			_, err = f.svc.GetUser(ctx, auditor, otherUser.ID)
			wantKind(t, err, errs.KindNotFound)
		})
		t.Run("admin cannot manage outside scope", func(t *testing.T) {
			_, err := f.svc.UpdateUser(ctx, provAdmin, otherUser.ID, UserInput{DisplayName: "x"})
			wantKind(t, err, errs.KindNotFound)
			wantKind(t, f.svc.SetDisabled(ctx, provAdmin, otherUser.ID, true), errs.KindNotFound)
			wantKind(t, f.svc.SetPassword(ctx, provAdmin, otherUser.ID, "", "Một-Mật-Khẩu-Mới-9"), errs.KindNotFound)
			wantKind(t, f.svc.RevokeSessions(ctx, provAdmin, otherUser.ID), errs.KindNotFound)
			_, _, err = f.svc.CreateToken(ctx, provAdmin, otherUser.ID, "x", []string{"read"}, time.Time{})
			wantKind(t, err, errs.KindNotFound)
		})
		t.Run("admin cannot move a user out of scope", func(t *testing.T) {
			_, err := f.svc.UpdateUser(ctx, provAdmin, cityUser.ID, UserInput{OrgID: f.other, DisplayName: "x"})
			if k := errs.KindOf(err); k != errs.KindNotFound && k != errs.KindForbidden {
				t.Fatalf("got %v", err)
			}
		})
		t.Run("national admin manages everyone", func(t *testing.T) {
			u, err := f.svc.UpdateUser(ctx, natAdmin, otherUser.ID, UserInput{OrgID: f.province, DisplayName: "Chuyển về Hà Nội",
				Roles: []policy.Role{policy.RoleCoordinator, policy.RoleAnalyst}})
			noErr(t, err)
			if u.OrgID != f.province || !slices.Equal(u.Roles, []policy.Role{policy.RoleCoordinator, policy.RoleAnalyst}) {
				t.Fatal(u)
			}
			got, err := f.svc.GetUser(ctx, provAdmin, otherUser.ID)
			noErr(t, err)
			if got.OrgID != f.province || got.DisplayName != "Chuyển về Hà Nội" || len(got.Roles) != 2 {
				t.Fatal(got)
			}
			// Put them back.
			_, err = f.svc.UpdateUser(ctx, natAdmin, otherUser.ID, UserInput{OrgID: f.other, DisplayName: "Về lại Đà Nẵng"})
			noErr(t, err)
		})
		t.Run("self edits profile but not roles", func(t *testing.T) {
			u, err := f.svc.UpdateUser(ctx, viewer, viewerU.ID, UserInput{DisplayName: "Lê Thị Hoa", Email: "hoa@hanoi.gov.vn", Locale: "en"})
			noErr(t, err)
			if u.DisplayName != "Lê Thị Hoa" || u.Locale != "en" || !slices.Equal(u.Roles, []policy.Role{policy.RoleViewer}) {
				t.Fatal(u)
			}
			_, err = f.svc.UpdateUser(ctx, viewer, viewerU.ID, UserInput{DisplayName: "x", Roles: []policy.Role{policy.RoleAdmin}})
			wantKind(t, err, errs.KindForbidden)
			_, err = f.svc.UpdateUser(ctx, viewer, viewerU.ID, UserInput{DisplayName: "x", OrgID: f.national})
			wantKind(t, err, errs.KindForbidden)
			// Another user's profile is not theirs to edit.
			_, err = f.svc.UpdateUser(ctx, viewer, cityUser.ID, UserInput{DisplayName: "x"})
			if err == nil {
				t.Fatal("viewer edited someone else")
			}
		})
		t.Run("self sets locale", func(t *testing.T) {
			noErr(t, f.svc.SetLocale(ctx, viewer, "vi"))
			wantField(t, f.svc.SetLocale(ctx, viewer, "de"), "locale", "field.invalid_choice")
			u, err := f.svc.GetUser(ctx, viewer, viewerU.ID)
			noErr(t, err)
			if u.Locale != "vi" {
				t.Fatal(u.Locale)
			}
		})
		t.Run("viewer reads self only", func(t *testing.T) {
			_, err := f.svc.GetUser(ctx, viewer, viewerU.ID)
			noErr(t, err)
			_, err = f.svc.GetUser(ctx, viewer, cityUser.ID)
			if err == nil {
				t.Fatal("viewer read another user")
			}
			list, total, err := f.svc.ListUsers(ctx, viewer, UserFilter{})
			noErr(t, err)
			if total != 1 || len(list) != 1 || list[0].ID != viewerU.ID {
				t.Fatalf("viewer list: %d %v", total, list)
			}
		})
		t.Run("list by scope, search and role", func(t *testing.T) {
			list, total, err := f.svc.ListUsers(ctx, provAdmin, UserFilter{})
			noErr(t, err)
			for _, u := range list {
				if u.OrgID != f.province && u.OrgID != f.city {
					t.Fatalf("out of scope user listed: %+v", u)
				}
			}
			// admin, auditor, viewer and new.hn in the province; the analyst
			// and new.ioc in the city.
			if total != len(list) || total != 6 {
				t.Fatalf("province admin lists %d (%d on the page)", total, len(list))
			}
			all, totalAll, err := f.svc.ListUsers(ctx, natAdmin, UserFilter{})
			noErr(t, err)
			if totalAll != total+2 || len(all) != totalAll {
				t.Fatalf("national sees %d, province %d", totalAll, total)
			}
			// Diacritics and case do not matter.
			hits, n, err := f.svc.ListUsers(ctx, provAdmin, UserFilter{Q: "le thi HOA"})
			noErr(t, err)
			if n != 1 || hits[0].ID != viewerU.ID {
				t.Fatalf("search: %d %v", n, hits)
			}
			hits, n, err = f.svc.ListUsers(ctx, natAdmin, UserFilter{Role: policy.RoleAuditor})
			noErr(t, err)
			if n != 1 || hits[0].Username != "auditor.hn" {
				t.Fatalf("role filter: %d %v", n, hits)
			}
			hits, n, err = f.svc.ListUsers(ctx, natAdmin, UserFilter{OrgID: f.city})
			noErr(t, err)
			for _, u := range hits {
				if u.OrgID != f.city {
					t.Fatal(u)
				}
			}
			if n != 2 {
				t.Fatalf("city users: %d", n)
			}
			_, _, err = f.svc.ListUsers(ctx, provAdmin, UserFilter{OrgID: f.other})
			if err == nil {
				t.Fatal("province admin listed another province")
			}
			page, n, err := f.svc.ListUsers(ctx, natAdmin, UserFilter{Limit: 2, Offset: 1})
			noErr(t, err)
			if len(page) != 2 || n != totalAll || page[0].Username != all[1].Username {
				t.Fatalf("paging: %v", page)
			}
			noErr(t, f.svc.SetDisabled(ctx, provAdmin, cityUser.ID, true))
			_, n2, err := f.svc.ListUsers(ctx, provAdmin, UserFilter{})
			noErr(t, err)
			_, n3, err := f.svc.ListUsers(ctx, provAdmin, UserFilter{IncludeDisabled: true})
			noErr(t, err)
			if n2 != total-1 || n3 != total {
				t.Fatalf("disabled filter: %d %d %d", total, n2, n3)
			}
		})
		t.Run("nobody disables themself", func(t *testing.T) {
			wantField(t, f.svc.SetDisabled(ctx, provAdmin, provAdmin.UserID, true), "disabled", "auth.err.cannot_disable_self")
		})
		t.Run("username rename keeps uniqueness", func(t *testing.T) {
			_, err := f.svc.UpdateUser(ctx, natAdmin, cityUser.ID, UserInput{Username: "viewer.hn"})
			wantField(t, err, "username", "auth.err.username_taken")
			u, err := f.svc.UpdateUser(ctx, natAdmin, cityUser.ID, UserInput{Username: "Analyst.IOC2"})
			noErr(t, err)
			if u.Username != "analyst.ioc2" {
				t.Fatal(u.Username)
			}
		})
		verifyAudit(t, db)
	})
}
