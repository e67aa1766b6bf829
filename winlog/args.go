package winlog

// CommandLineToArgv splits a Windows command line as the Sysmon (and
// SentinelOne, M365 Defender, CrowdStrike FDR) ingest pipelines do: a port of
// Go's Windows commandLineToArgv ("prior to 2008" rule for doubled quotes).
// Quotes are removed; backslashes are literal unless they precede a quote.
func CommandLineToArgv(cmd string) []string {
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
