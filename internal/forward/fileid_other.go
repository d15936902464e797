//go:build !unix

package forward

import "os"

// fileID is unknown on this system: rotation is then noticed only when the
// file shrinks.
func fileID(fi os.FileInfo) (dev, ino uint64) { return 0, 0 }

// lockDir cannot lock here; the state folder must not be shared.
func lockDir(path string) (func(), error) { return func() {}, nil }
