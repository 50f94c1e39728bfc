// Command demo-pipeline plays the release pipeline and the outside world in
// scripts/demo.sh, so that the demo needs no kubectl, psql or migrate CLI:
//
//	demo-pipeline deploy NAMESPACE NAME IMAGE CHANGE-CAUSE CONFIGMAP  # Deployment (3 replicas, envFrom CONFIGMAP) + Service
//	demo-pipeline config NAMESPACE NAME KEY=VALUE...                  # create or replace a ConfigMap's data
//	demo-pipeline url NAMESPACE SERVICE                               # wait for and print the Service's sandbox URL
//	demo-pipeline db-create ADMIN-URL NAME                            # create (or recreate) a PostgreSQL database
//	demo-pipeline db-up DATABASE-URL MIGRATIONS-DIR                   # apply every migration with golang-migrate
//	demo-pipeline receive URL-FILE LOG-FILE                           # a webhook receiver: writes its URL, logs each event
//	demo-pipeline runbook NAMESPACE HEALTH-URL                        # print the demo's rollback.yaml
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo-pipeline:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: demo-pipeline deploy|statefulset|config|url|db-create|db-up|receive|runbook ...")
	}
	need := func(n int, usage string) error {
		if len(args) < n {
			return fmt.Errorf("usage: %s", usage)
		}
		return nil
	}
	switch args[0] {
	case "deploy":
		if err := need(6, "deploy NAMESPACE NAME IMAGE CHANGE-CAUSE CONFIGMAP"); err != nil {
			return err
		}
		return deploy(ctx, args[1], args[2], args[3], args[4], args[5])
	case "statefulset":
		if err := need(5, "statefulset NAMESPACE NAME IMAGE CHANGE-CAUSE"); err != nil {
			return err
		}
		return statefulSet(ctx, args[1], args[2], args[3], args[4])
	case "config":
		if err := need(4, "config NAMESPACE NAME KEY=VALUE..."); err != nil {
			return err
		}
		return config(ctx, args[1], args[2], args[3:])
	case "url":
		if err := need(3, "url NAMESPACE SERVICE"); err != nil {
			return err
		}
		return serviceURL(ctx, args[1], args[2])
	case "db-create":
		if err := need(3, "db-create ADMIN-URL NAME"); err != nil {
			return err
		}
		return dbCreate(ctx, args[1], args[2])
	case "db-up":
		if err := need(3, "db-up DATABASE-URL MIGRATIONS-DIR"); err != nil {
			return err
		}
		return dbUp(ctx, args[1], args[2])
	case "receive":
		if err := need(3, "receive URL-FILE LOG-FILE"); err != nil {
			return err
		}
		return receive(ctx, args[1], args[2])
	case "runbook":
		if err := need(3, "runbook NAMESPACE HEALTH-URL"); err != nil {
			return err
		}
		return runbook(os.Stdout, args[1], args[2])
	}
	return fmt.Errorf("unknown command %q", args[0])
}
