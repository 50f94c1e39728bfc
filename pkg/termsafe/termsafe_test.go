package termsafe

import "testing"

func TestString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain message", "plain message"},
		{"Back-off \x1b[2J\x1b[1;1Hrestarting", "Back-off restarting"},
		{"title \x1b]0;pwned\x07set", "title set"},
		{"osc st \x1b]8;;http://x\x1b\\link", "osc st link"},
		{"bell\x07 and nul\x00", "bell and nul"},
		{"two\nlines\r\n", "two lines  "},
		{"c1 \u009b31m", "c1 31m"},
		{"bidi \u202egnp.exe", "bidi gnp.exe"},
		{"unicode ✓ kept", "unicode ✓ kept"},
		{"bad utf8 \xff", "bad utf8 \ufffd"},
		{"trailing esc \x1b", "trailing esc "},
	}
	for _, tt := range tests {
		if got := String(tt.in); got != tt.want {
			t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := Text("a\n\tb\x1b[31mc\r\n"); got != "a\n\tbc\n" {
		t.Errorf("Text = %q", got)
	}
}

func FuzzString(f *testing.F) {
	f.Add("Back-off \x1b[2J restarting")
	f.Add("\x1b]0;title\x07")
	f.Add("\u009b\u202e\xff")
	f.Fuzz(func(t *testing.T, s string) {
		for _, out := range []string{String(s), Text(s)} {
			for _, r := range out {
				if r == '\x1b' || r < 0x20 && r != '\n' && r != '\t' || r == 0x7f || r >= 0x80 && r < 0xa0 {
					t.Fatalf("control character %U left in %q (from %q)", r, out, s)
				}
			}
		}
		if String(String(s)) != String(s) {
			t.Fatalf("String is not idempotent on %q", s)
		}
	})
}
