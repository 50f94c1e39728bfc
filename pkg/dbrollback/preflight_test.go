package dbrollback

import "testing"

func TestMajorVersion(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"PostgreSQL 16.4 (Debian 16.4-1.pgdg120+1)", 16},
		{"pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)", 15},
		{"10.11.6-MariaDB-0+deb12u1", 10},
		{"mysqldump  Ver 10.19 Distrib 10.11.19-MariaDB, for debian-linux-gnu (x86_64)", 10},
		{"mariadb-dump from 11.4.2-MariaDB, client 10.19 for Linux (x86_64)", 11},
		{"mysqldump  Ver 8.0.36 for Linux on x86_64 (MySQL Community Server - GPL)", 8},
		{"8.4.0", 8},
		{"SQLite 3.46.0", 3},
		{"unknown", 0},
	}
	for _, tt := range tests {
		if got := MajorVersion(tt.in); got != tt.want {
			t.Errorf("MajorVersion(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}
