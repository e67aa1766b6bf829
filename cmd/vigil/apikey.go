package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/vigilsec/vigil/server"
)

func newAPIKeyCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "apikey",
		Short: "Manage the API keys of vigil serve",
	}
	var data, name string
	create := &cobra.Command{
		Use:   "create --data DIR --name NAME",
		Short: "Create an API key and print it (only its hash is stored)",
		Long: `Create an API key for vigil serve and print it once. Clients send it as
"Authorization: ApiKey <key>" (Elasticsearch's form: Beats' and Elastic
Agent's api_key setting takes the decoded id:key), or as basic authentication
with the key id as user and the secret as password. The key file is
DIR/apikeys.json; only the SHA-256 of the secret is stored. A running server
picks new keys up within a second.`,
		Example: `  vigil apikey create --data /var/lib/vigil --name filebeat`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if data == "" || name == "" {
				return usageErrorf("apikey create: --data and --name are required")
			}
			enc, k, err := server.CreateAPIKey(data, name)
			if err != nil {
				return &exitError{code: exitInput, msg: fmt.Sprintf("apikey create: %v", err)}
			}
			fmt.Fprintln(e.stdout, enc)
			fmt.Fprintf(e.stderr, "vigil: API key %q created (id %s); send it as: Authorization: ApiKey %s\n", k.Name, k.ID, enc)
			return nil
		},
	}
	create.Flags().StringVar(&data, "data", "", "data `DIR` of vigil serve")
	create.Flags().StringVar(&name, "name", "", "a `NAME` for the key (who uses it)")
	c.AddCommand(create)
	return c
}
