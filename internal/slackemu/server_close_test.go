package slackemu

import (
	"net"
	"net/url"
	"testing"
)

// A client that connected and never sent a request (a request cancelled after its dial leaves
// such a connection in the client's pool) does not fail Close: net/http counts it as idle after
// 5 s, and Close waits longer than that.
func TestCloseWithAConnectionThatSentNothing(t *testing.T) {
	t.Parallel()
	s := New(Config{})
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}
