package progress

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalizeLanguage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    string
		wantErr string
	}{
		{in: "go", want: "go"},
		{in: "Go", want: "go"},
		{in: "golang", want: "go"},
		{in: "  GoLang ", want: "go"},
		{in: "c++", want: "cpp"},
		{in: "cpp", want: "cpp"},
		{in: "C++17", want: "cpp"},
		{in: "C", want: "c"},
		{in: "c#", want: "csharp"},
		{in: "js", want: "javascript"},
		{in: "JavaScript", want: "javascript"},
		{in: "Node.js", want: "javascript"},
		{in: "ts", want: "typescript"},
		{in: "python3", want: "python"},
		{in: "Python 3.12", want: "python"},
		{in: "Java 17", want: "java"},
		{in: "objective  c", want: "objective-c"},
		{in: "Fortran", want: "fortran"},
		{in: "es6", want: "es6"},
		{in: "", wantErr: "name a programming language"},
		{in: "   ", wantErr: "name a programming language"},
		{in: "JSON", wantErr: "JSON is a data or markup format"},
		{in: "yaml", wantErr: "not a programming language"},
		{in: strings.Repeat("x", 41), wantErr: "too long"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := NormalizeLanguage(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("NormalizeLanguage(%q) = %q, %v; want error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("NormalizeLanguage(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestNormalizeWireFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    string
		wantErr string // exact message when refused
	}{
		{in: "protobuf", want: "protobuf"},
		{in: "Proto", want: "protobuf"},
		{in: "proto3", want: "protobuf"},
		{in: "gRPC", want: "protobuf"},
		{in: "Protocol  Buffers", want: "protobuf"},
		{in: "Thrift", want: "thrift"},
		{in: "Apache Avro", want: "avro"},
		{in: "RMI", want: "rmi"},
		{in: "Cap'n Proto", want: "capnproto"},
		{in: "msgpack", want: "messagepack"},
		{in: "MessagePack", want: "messagepack"},
		{in: "flatbuffers", want: "flatbuffers"},
		{in: "CBOR", want: "cbor"},
		{in: "BSON", want: "bson"},
		{in: "ubjson", want: "ubjson"},
		{in: "SBE", want: "sbe"},
		{in: "Bincode", want: "bincode"},
		{in: "JSON", wantErr: "JSON is a text format like the ones the milestone asks you to go beyond; try protobuf, Thrift, Avro, MessagePack or Cap'n Proto"},
		{in: "json", wantErr: "JSON is a text format like the ones the milestone asks you to go beyond; try protobuf, Thrift, Avro, MessagePack or Cap'n Proto"},
		{in: "XML", wantErr: "XML is a text format like the ones the milestone asks you to go beyond; try protobuf, Thrift, Avro, MessagePack or Cap'n Proto"},
		{in: "ndjson", wantErr: "ndjson is JSON underneath, a text format like the ones the milestone asks you to go beyond; try protobuf, Thrift, Avro, MessagePack or Cap'n Proto"},
		{in: "JSON-RPC", wantErr: "JSON-RPC is JSON underneath, a text format like the ones the milestone asks you to go beyond; try protobuf, Thrift, Avro, MessagePack or Cap'n Proto"},
		{in: "JSON Lines", wantErr: "JSON Lines is JSON underneath, a text format like the ones the milestone asks you to go beyond; try protobuf, Thrift, Avro, MessagePack or Cap'n Proto"},
		{in: "GraphQL", wantErr: "GraphQL is JSON underneath, a text format like the ones the milestone asks you to go beyond; try protobuf, Thrift, Avro, MessagePack or Cap'n Proto"},
		{in: "SOAP", wantErr: "SOAP is XML underneath, a text format like the ones the milestone asks you to go beyond; try protobuf, Thrift, Avro, MessagePack or Cap'n Proto"},
		{in: "xml-rpc", wantErr: "xml-rpc is XML underneath, a text format like the ones the milestone asks you to go beyond; try protobuf, Thrift, Avro, MessagePack or Cap'n Proto"},
		{in: "", wantErr: "name a wire format, e.g. protobuf"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := NormalizeWireFormat(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("NormalizeWireFormat(%q) = %q, %v; want error %q", tt.in, got, err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("error spans lines: %q", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("NormalizeWireFormat(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestRefusedFormatsMatchErrJSONOrXML(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want bool
	}{{"json", true}, {"soap", true}, {"ndjson", true}, {"", false}, {"protobuf", false}}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			_, err := NormalizeWireFormat(tt.in)
			if got := errors.Is(err, ErrJSONOrXML); got != tt.want {
				t.Errorf("errors.Is(NormalizeWireFormat(%q), ErrJSONOrXML) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestKnownLanguage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want bool
	}{{"Go", true}, {"python3", true}, {"Objective C", true}, {"visual", false}, {"visual basic", false}, {"", false}}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			if got := KnownLanguage(tt.in); got != tt.want {
				t.Errorf("KnownLanguage(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestDisplayNames(t *testing.T) {
	t.Parallel()
	tests := []struct{ got, want string }{
		{LanguageName("cpp"), "C++"},
		{LanguageName("go"), "Go"},
		{LanguageName("fortran"), "fortran"},
		{WireFormatName("protobuf"), "Protocol Buffers"},
		{WireFormatName("bincode"), "bincode"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}
