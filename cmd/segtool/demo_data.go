package main

import "github.com/urfave/cli/v2"

func demoDataCommand() *cli.Command {
	return &cli.Command{Name: "demo-data", Hidden: true, Action: func(*cli.Context) error { return nil }}
}
