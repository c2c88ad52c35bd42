package main

import (
	"os"

	"github.com/patronus-sdwan/patronus/internal/controller"
	"github.com/spf13/cobra"
)

func newControllerCmd() *cobra.Command {
	var sf storeFlags
	var listen, redis string
	cmd := &cobra.Command{
		Use:   "controller",
		Short: "Run the controller: the API, the dashboard and the store",
		Long: `Run the controller. With no flags it keeps its state in SQLite under ./data and
listens on 127.0.0.1:8080; it creates and migrates the database itself.

It serves GraphQL at /graphql, GET /health, GET /health/ready and GET /metrics.`,
		Example: `  patronus controller --data ./data --listen 127.0.0.1:8080
  patronus controller --db postgres://patronus@db/patronus --redis redis://cache:6379/0 --listen 0.0.0.0:8080`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			c, err := controller.New(ctx, controller.Config{
				DataDir: sf.data, DBURL: sf.db, RedisURL: redis, Listen: listen,
				Version: version, Logger: logger(cmd),
			})
			if err != nil {
				return err
			}
			defer c.Close()
			return c.Serve(ctx)
		},
	}
	sf.register(cmd)
	cmd.Flags().StringVar(&listen, "listen", envOr("PATRONUS_LISTEN", "127.0.0.1:8080"), "address to serve on (env PATRONUS_LISTEN); loopback unless you mean otherwise")
	cmd.Flags().StringVar(&redis, "redis", os.Getenv("PATRONUS_REDIS"), "Redis URL to share caches between controller replicas (env PATRONUS_REDIS)")
	return cmd
}
