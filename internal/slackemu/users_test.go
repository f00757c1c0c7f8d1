package slackemu

import (
	"fmt"
	"slices"
	"testing"
)

// TestAddUsersLikeAddUser: adding members in bulk gives the workspace adding them one by one
// gives, default channel membership included, for new, repeated and pre-invited members.
func TestAddUsersLikeAddUser(t *testing.T) {
	var users []User
	for i := range 40 {
		users = append(users, User{ID: fmt.Sprintf("UB%03d", i%30), RealName: fmt.Sprintf("Bulk %d", i)})
	}
	one, bulk := New(Config{}), New(Config{})
	t.Cleanup(func() { _ = one.Close(); _ = bulk.Close() })
	for _, s := range []*Server{one, bulk} {
		s.AddChannel("general", "UB007")
	}
	for _, u := range users {
		one.AddUser(u)
	}
	bulk.AddUsers(users...)
	if a, b := one.Users(), bulk.Users(); !slices.Equal(a, b) {
		t.Fatalf("users differ:\n%v\n%v", a, b)
	}
	for _, ch := range []string{GeneralChannelID, LeaderboardChannelID} {
		a, b := one.ws.members(one.ws.conv(ch)), bulk.ws.members(bulk.ws.conv(ch))
		if !slices.Equal(a, b) {
			t.Fatalf("%s members differ:\n%v\n%v", ch, a, b)
		}
	}
	if got := bulk.usersRange(28, 100); len(got) != len(bulk.Users())-28 || got[0] != bulk.Users()[28] {
		t.Fatalf("usersRange(28, 100) = %v", got)
	}
	if got := bulk.usersRange(500, 600); len(got) != 0 {
		t.Fatalf("usersRange past the end = %v", got)
	}
}
