package intel

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// The public page and Atom feed (no sign-in) show the advisories that
// anyone may read: TLP:CLEAR, published (still open or closed since), and
// real (never a drill's). publicWhere is the one condition every public
// read goes through.
const publicWhere = `tlp = 'CLEAR' AND published_at IS NOT NULL AND exercise_id IS NULL AND status IN ('published', 'closed')`

// MaxPublicPage bounds a page of the public list and feed.
const MaxPublicPage = 100

// PublicCursor is a position in the public list, newest first: the
// publication time and id of the last advisory of a page. The zero value
// is the first page.
type PublicCursor struct {
	At time.Time
	ID int64
}

// IsZero reports whether the cursor is the first page.
func (c PublicCursor) IsZero() bool { return c.ID == 0 }

// String encodes the cursor for a URL ("<unix micro>-<id>").
func (c PublicCursor) String() string {
	if c.IsZero() {
		return ""
	}
	return fmt.Sprintf("%d-%d", c.At.UnixMicro(), c.ID)
}

// ParsePublicCursor reads a cursor from a URL; "" is the first page.
func ParsePublicCursor(s string) (PublicCursor, error) {
	if s == "" {
		return PublicCursor{}, nil
	}
	bad := errs.Invalid("advisory: public cursor").Field("before", "field.invalid")
	t, id, ok := strings.Cut(s, "-")
	if !ok || len(s) > 48 {
		return PublicCursor{}, bad
	}
	us, err1 := strconv.ParseInt(t, 10, 64)
	n, err2 := strconv.ParseInt(id, 10, 64)
	if err1 != nil || err2 != nil || n <= 0 || us < 0 || us > 1<<53 {
		return PublicCursor{}, bad
	}
	return PublicCursor{At: time.UnixMicro(us).UTC(), ID: n}, nil
}

// PublicPage is a page of the public list.
type PublicPage struct {
	Advisories []Advisory
	// Next is the cursor of the following (older) page; zero when this
	// is the last one.
	Next PublicCursor
}

// PublicAdvisories lists the public advisories published before the
// cursor, newest first, limit at most (1–MaxPublicPage).
func (s *Service) PublicAdvisories(ctx context.Context, before PublicCursor, limit int) (PublicPage, error) {
	const op = "advisory: public list"
	if limit <= 0 || limit > MaxPublicPage {
		limit = 20
	}
	q := "SELECT " + advisoryCols + " FROM advisories WHERE " + publicWhere
	var args []any
	if !before.IsZero() {
		q += " AND (published_at < ? OR published_at = ? AND id < ?)"
		args = append(args, before.At, before.At, before.ID)
	}
	q += " ORDER BY published_at DESC, id DESC LIMIT ?"
	args = append(args, limit+1)
	rows, err := s.DB.Query(ctx, q, args...)
	if err != nil {
		return PublicPage{}, errs.Internal(op, err)
	}
	defer rows.Close()
	out := PublicPage{Advisories: []Advisory{}}
	for rows.Next() {
		v, err := scanAdvisory(rows)
		if err != nil {
			return PublicPage{}, errs.Internal(op, err)
		}
		out.Advisories = append(out.Advisories, public(v))
	}
	if err := rows.Err(); err != nil {
		return PublicPage{}, errs.Internal(op, err)
	}
	if len(out.Advisories) > limit {
		out.Advisories = out.Advisories[:limit]
		last := out.Advisories[limit-1]
		out.Next = PublicCursor{At: last.PublishedAt, ID: last.ID}
	}
	return out, nil
}

// PublicAdvisory returns one public advisory (NotFound for any other,
// whether it exists or not).
func (s *Service) PublicAdvisory(ctx context.Context, id int64) (Advisory, error) {
	const op = "advisory: public get"
	v, err := scanAdvisory(s.DB.QueryRow(ctx, "SELECT "+advisoryCols+" FROM advisories WHERE id = ? AND "+publicWhere, id))
	if store.IsNoRows(err) {
		return Advisory{}, errs.NotFound(op)
	}
	if err != nil {
		return Advisory{}, errs.Internal(op, err)
	}
	return public(v), nil
}

// public keeps what the public may read of an advisory: not its targeting
// (who was warned), its linked indicators, nor who wrote it.
func public(v Advisory) Advisory {
	if v.TLP != policy.TLPClear { // publicWhere already says so; never rely on one line only
		return Advisory{}
	}
	return Advisory{ID: v.ID, OwnerOrgID: v.OwnerOrgID, Title: v.Title, TitleEN: v.TitleEN, Summary: v.Summary, SummaryEN: v.SummaryEN,
		Body: v.Body, BodyEN: v.BodyEN, Severity: v.Severity, CVEs: v.CVEs, Products: v.Products, Actions: v.Actions, TLP: v.TLP,
		Status: v.Status, STIXID: v.STIXID, CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt, PublishedAt: v.PublishedAt,
		ClosedAt: v.ClosedAt, IndicatorIDs: []int64{}}
}
