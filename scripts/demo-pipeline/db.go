package main

import (
	"context"
	"fmt"
	"os"

	"github.com/golang-migrate/migrate/v4"
	mpgx "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	"github.com/golang-migrate/migrate/v4/source/iofs"

	"github.com/vibestack/rollback/pkg/dbrollback"
)

// dbCreate drops and creates database name on the server of adminURL.
func dbCreate(ctx context.Context, adminURL, name string) error {
	db, err := dbrollback.OpenDB(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `DROP DATABASE IF EXISTS "`+name+`" WITH (FORCE)`); err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	if _, err := db.ExecContext(ctx, `CREATE DATABASE "`+name+`"`); err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	fmt.Printf("database %s created\n", name)
	return nil
}

// dbUp applies every migration in dir with golang-migrate.
func dbUp(ctx context.Context, url, dir string) error {
	db, err := dbrollback.OpenDB(ctx, url)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer db.Close()
	src, err := iofs.New(os.DirFS(dir), ".")
	if err != nil {
		return err
	}
	drv, err := mpgx.WithInstance(db, &mpgx.Config{})
	if err != nil {
		return err
	}
	m, err := migrate.NewWithInstance("iofs", src, "postgres", drv)
	if err != nil {
		return err
	}
	if err := m.Up(); err != nil && err != migrate.ErrNoChange {
		return fmt.Errorf("migrate up: %w", err)
	}
	v, _, _ := m.Version()
	fmt.Printf("migrations applied: version %d\n", v)
	return nil
}
