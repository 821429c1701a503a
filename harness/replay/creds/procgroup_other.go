//go:build !unix

package creds

import "os/exec"

// setProcessGroup keeps the default: CommandContext kills the process only.
func setProcessGroup(*exec.Cmd) {}
