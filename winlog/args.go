package winlog

import "github.com/vigilsec/vigil/internal/cmdline"

// CommandLineToArgv splits a Windows command line as the Sysmon (and
// SentinelOne, CrowdStrike FDR) ingest pipelines do; the implementation
// lives in internal/cmdline, shared with the EDR normalisers under source/.
func CommandLineToArgv(cmd string) []string { return cmdline.WindowsArgv(cmd) }

// Split4688 splits a Security 4688 CommandLine as the system.security /
// windows.forwarded "Process Event 4688" script does: quotes toggle an
// in-quote flag and are kept; every unquoted whitespace character ends the
// current argument, even an empty one; the last argument runs to the end.
func Split4688(cmd string) []string {
	var args []string
	start := 0
	inquote := false
	for i := 0; i < len(cmd); i++ {
		switch cmd[i] {
		case '"':
			inquote = !inquote
		case ' ', '\t', '\n', '\r', '\v', '\f':
			if !inquote {
				args = append(args, cmd[start:i])
				start = i + 1
			}
		}
	}
	return append(args, cmd[start:])
}
