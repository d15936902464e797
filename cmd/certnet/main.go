// Command certnet is the one binary of the national cyber-incident response
// network: run "certnet help" for its commands.
package main

import (
	"os"

	"certnet/internal/app"
)

func main() {
	os.Exit(app.Main(os.Args[1:], os.Stdout, os.Stderr))
}
