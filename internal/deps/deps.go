// Package deps pins modules that packages being written right now will import;
// it is removed once they do.
package deps

import (
	_ "github.com/alexedwards/argon2id"
	_ "github.com/chromedp/chromedp"
	_ "github.com/gaissmai/bart"
	_ "github.com/pquerna/otp/totp"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/schollz/progressbar/v3"
	_ "github.com/xuri/excelize/v2"
)
