package progress

import (
	"testing"
	"time"
)

func TestParseDate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    Date
		wantErr bool
	}{
		{in: "2026-01-31", want: Date{2026, time.January, 31}},
		{in: "2026-1-5", want: Date{2026, time.January, 5}},
		{in: "2024-02-29", want: Date{2024, time.February, 29}},
		{in: "2026-02-29", wantErr: true},
		{in: "2026-02-30", wantErr: true},
		{in: "2026-13-01", wantErr: true},
		{in: "2026-00-10", wantErr: true},
		{in: "2026-01-00", wantErr: true},
		{in: "26-01-01", wantErr: true},
		{in: "2026/01/01", wantErr: true},
		{in: "2026-01-01T00:00", wantErr: true},
		{in: "2026-+1-01", wantErr: true},
		{in: "", wantErr: true},
		{in: "2026-001-01", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseDate(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseDate(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("ParseDate(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestDateArithmetic(t *testing.T) {
	t.Parallel()
	d := func(s string) Date {
		t.Helper()
		v, err := ParseDate(s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"String pads", Date{987, time.March, 4}.String(), "0987-03-04"},
		{"AddDays across a year", d("2025-12-31").AddDays(1), d("2026-01-01")},
		{"AddDays back across a leap day", d("2024-03-01").AddDays(-1), d("2024-02-29")},
		{"DaysBetween forward", DaysBetween(d("2026-01-01"), d("2026-03-01")), 59},
		{"DaysBetween backward", DaysBetween(d("2026-01-02"), d("2026-01-01")), -1},
		{"DaysBetween over centuries", DaysBetween(d("1600-01-01"), d("2400-01-01")), 292194},
		{"Before", d("2026-01-01").Before(d("2026-01-02")), true},
		{"not Before itself", d("2026-01-01").Before(d("2026-01-01")), false},
		{"After by month", d("2026-02-01").After(d("2026-01-31")), true},
		{"Weekday", d("2026-01-05").Weekday(), time.Monday},
		{"FromTime uses the zone", FromTime(time.Date(2026, 1, 1, 23, 30, 0, 0, time.UTC), time.FixedZone("+2", 2*3600)), d("2026-01-02")},
		{"FromTime nil zone is UTC", FromTime(time.Date(2026, 1, 1, 23, 30, 0, 0, time.UTC), nil), d("2026-01-01")},
		{"zero Date is not valid", Date{}.IsValid(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.got != tt.want {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
}
