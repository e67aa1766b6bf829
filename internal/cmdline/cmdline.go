// Package cmdline splits command lines the way Elastic's ingest pipelines
// do, for every normaliser (winlog, the EDR formats under source/). It
// depends on nothing, so normalisers need not import each other.
package cmdline

import "unsafe"

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
		arg, cmd = readNextArg(cmd, nil)
		args = append(args, string(arg))
	}
	return args
}

// AppendWindowsArgv is WindowsArgv appending to args without allocating
// per argument (for normalisers, which split a command line per event): an
// argument that is a run of cmd as it stands (no quote in it, the common
// case) is a substring of cmd; any other is built at the end of buf, which
// is returned, and the string shares buf's memory. The caller must not
// overwrite buf[len(buf):] of the returned buf while it uses such strings
// (appending to it is fine: a reallocation leaves the old array as it is).
func AppendWindowsArgv(args []string, buf []byte, cmd string) ([]string, []byte) {
	for len(cmd) > 0 {
		if cmd[0] == ' ' || cmd[0] == '\t' {
			cmd = cmd[1:]
			continue
		}
		i := 0
		for i < len(cmd) && cmd[i] != ' ' && cmd[i] != '\t' && cmd[i] != '"' {
			i++
		}
		if i == len(cmd) || cmd[i] != '"' {
			// No quote: every backslash is literal, the argument is cmd[:i].
			args = append(args, cmd[:i])
			cmd = cmd[min(i+1, len(cmd)):]
			continue
		}
		start := len(buf)
		buf, cmd = readNextArg(cmd, buf)
		var s string
		if n := len(buf) - start; n > 0 {
			s = unsafe.String(&buf[start], n)
		}
		args = append(args, s)
	}
	return args, buf
}

func appendBackslashes(b []byte, n int) []byte {
	for ; n > 0; n-- {
		b = append(b, '\\')
	}
	return b
}

// readNextArg appends the argument at the start of cmd to b and returns
// b and what follows the argument.
func readNextArg(cmd string, b []byte) (arg []byte, rest string) {
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
