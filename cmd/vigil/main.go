// Command vigil runs Elastic's EQL detection queries over log files, without
// Elasticsearch.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
