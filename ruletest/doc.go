// Package ruletest runs rule unit tests: small TOML files that sit next to
// detection rules and say which alerts a rule must raise on given events,
// so that rules are tested offline, without Elasticsearch or Kibana.
//
// # The format
//
// A test file is named <rule>.test.toml (any *.test.toml is found by Find)
// and holds:
//
//	# Tests for persistence_user_account_creation.toml.
//	rule = "persistence_user_account_creation.toml" # a path, or a rule_id
//	description = "optional text"
//
//	[[case]]
//	name = "net user /add from cmd.exe alerts"
//	events = '''
//	{"@timestamp":"2026-03-10T09:03:32Z","event":{"category":["process"],"type":["start"]},"host":{"os":{"type":"windows"}},"process":{"name":"net.exe","args":["net","user","x","/add"],"parent":{"name":"cmd.exe"}}}
//	{"_id":"n1","@timestamp":"2026-03-10T09:03:33Z","event":{"category":["process"],"type":["start"]},"process":{"name":"notepad.exe"}}
//	'''
//	expect_ids = ["1"]
//
//	[[case]]
//	name = "the intrusion story"
//	events_file = "../../samples/defend-user-account-creation.ndjson"
//	expect_alerts = 2
//	expect_ids = ["22", "33"]
//
// Top-level keys:
//
//   - rule: the rule under test. A value with a path separator or ending in
//     .toml, .json or .ndjson is a path, relative to the test file; any
//     other value is a rule_id, which the caller's resolver looks up (in
//     the loaded rule set). A file named x.test.toml may omit rule: it then
//     tests x.toml beside it.
//   - description: free text.
//
// Each [[case]] has:
//
//   - name (required, unique in the file) and description (free text);
//   - events, inline: NDJSON (one JSON object per line; blank lines are
//     ignored) or one JSON array of objects, usually in a multi-line literal
//     string (three single quotes, as above) so that backslashes need no
//     escaping; or events_file: a file
//     of the same, relative to the test file. Exactly one of the two.
//   - expect_alerts = N: the number of alerts the rule raises on the
//     events; and/or expect_ids = [...]: which events raise them. At least
//     one is required; when both are set they must agree in number.
//   - skip = "why": the case is reported as skipped, not run.
//
// Event ids. Each event of a case has a position: 1 for the first event,
// 2 for the next (blank lines are not counted, so in a file without blank
// lines the position is the line number). An entry of expect_ids is an
// event's top-level "_id" string, or its position as "3" or "#3"; an alert
// on a sequence lists its events joined by ",": "3,5". An event's _id wins
// over a position with the same text, and _ids must be unique in a case.
// expect_ids is compared as a multiset: order does not matter, but an
// event that raises two alerts is listed twice.
//
// # Loading and running
//
// LoadFile (or Load from an fs.FS) parses and checks a file and reads its
// events; every problem is reported as an *Error at file:line:col (unknown
// keys, wrong types, missing expectations, invalid JSON events at their
// line in the test or events file, expect_ids naming no event), collected
// in an ErrorList.
//
// Run is independent of the detection engine: the caller passes resolve,
// which turns the rule reference into a *rule.Rule, and run, which
// evaluates the rule over a case's events (NDJSON, one event per line) and
// returns one id per alert: the event's "_id", else its line number. The
// Report has a Status per case and, for failures, a readable diff: the
// expected and got counts and ids, and each missing or unexpected alert
// with the event it names (position, file:line, command line).
package ruletest
