// Package cmdline splits command lines the way Elastic's ingest pipelines
// do, for every normaliser (winlog, the EDR formats under source/). It
// depends on nothing, so normalisers need not import each other.
package cmdline

// WindowsArgv splits a Windows command line as the Sysmon, SentinelOne and
// CrowdStrike FDR ingest pipelines do: a port of Go's Windows
// commandLineToArgv ("prior to 2008" rule for doubled quotes). Quotes are
// removed; backslashes are literal unless they precede a quote. See
// ../shared/telemetry/ARGS-SPLITTING.md, section 1.
func WindowsArgv(cmd string) []string {
	var args []string
	for len(cmd) > 0 {
		if cmd[0] == ' ' || cmd[0] == '\t' {
			cmd = cmd[1:]
			continue
		}
		var arg []byte
		arg, cmd = readNextArg(cmd)
		args = append(args, string(arg))
	}
	return args
}

func appendBackslashes(b []byte, n int) []byte {
	for ; n > 0; n-- {
		b = append(b, '\\')
	}
	return b
}

func readNextArg(cmd string) (arg []byte, rest string) {
	var b []byte
	var inquote bool
	var nslash int
	for ; len(cmd) > 0; cmd = cmd[1:] {
		c := cmd[0]
		switch c {
		case ' ', '\t':
			if !inquote {
				return appendBackslashes(b, nslash), cmd[1:]
			}
		case '"':
			b = appendBackslashes(b, nslash/2)
			if nslash%2 == 0 {
				if inquote && len(cmd) > 1 && cmd[1] == '"' {
					b = append(b, c)
					cmd = cmd[1:]
				}
				inquote = !inquote
			} else {
				b = append(b, c)
			}
			nslash = 0
			continue
		case '\\':
			nslash++
			continue
		}
		b = appendBackslashes(b, nslash)
		nslash = 0
		b = append(b, c)
	}
	return appendBackslashes(b, nslash), ""
}
