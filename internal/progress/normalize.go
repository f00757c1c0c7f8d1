package progress

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// maxNameLen bounds a language or format name; real ones are short and the value ends up in
// every summary the bot posts.
const maxNameLen = 40

// language is a known programming language: its id, how the bot writes it, and other names
// people use for it.
type language struct {
	id, name string
	aliases  []string
}

var languages = []language{
	{"go", "Go", []string{"golang"}},
	{"c", "C", nil},
	{"cpp", "C++", []string{"c++", "cxx", "cplusplus"}},
	{"csharp", "C#", []string{"c#", "c-sharp", "c sharp"}},
	{"fsharp", "F#", []string{"f#", "f-sharp", "f sharp"}},
	{"java", "Java", nil},
	{"kotlin", "Kotlin", []string{"kt"}},
	{"scala", "Scala", nil},
	{"clojure", "Clojure", []string{"clj"}},
	{"groovy", "Groovy", nil},
	{"javascript", "JavaScript", []string{"js", "node", "nodejs", "node.js", "ecmascript"}},
	{"typescript", "TypeScript", []string{"ts"}},
	{"python", "Python", []string{"py"}},
	{"ruby", "Ruby", []string{"rb"}},
	{"php", "PHP", nil},
	{"perl", "Perl", nil},
	{"rust", "Rust", []string{"rs"}},
	{"swift", "Swift", nil},
	{"objective-c", "Objective-C", []string{"objc", "obj-c", "objective c"}},
	{"elixir", "Elixir", nil},
	{"erlang", "Erlang", nil},
	{"haskell", "Haskell", nil},
	{"ocaml", "OCaml", nil},
	{"lua", "Lua", nil},
	{"r", "R", nil},
	{"dart", "Dart", nil},
	{"julia", "Julia", nil},
	{"zig", "Zig", nil},
	{"nim", "Nim", nil},
	{"crystal", "Crystal", nil},
	{"elm", "Elm", nil},
	{"gleam", "Gleam", nil},
	{"shell", "Shell", []string{"bash", "sh", "zsh"}},
}

// notLanguages are names people reach for that describe data or markup, not something a
// service is written in.
var notLanguages = map[string]bool{
	"json": true, "xml": true, "yaml": true, "yml": true, "toml": true, "html": true,
	"css": true, "markdown": true, "md": true, "csv": true, "protobuf": true,
}

// wireFormat is a known wire format: its id, how the bot writes it, and its other names.
type wireFormat struct {
	id, name string
	aliases  []string
}

var wireFormats = []wireFormat{
	{"protobuf", "Protocol Buffers", []string{"proto", "protocol buffers", "protocol-buffers", "protocolbuffers", "protobufs", "grpc", "pb"}},
	{"thrift", "Thrift", []string{"apache thrift"}},
	{"avro", "Avro", []string{"apache avro"}},
	{"rmi", "Java RMI", []string{"java rmi"}},
	{"capnproto", "Cap'n Proto", []string{"cap'n proto", "capn proto", "capnp", "cap'n'proto", "cap n proto", "capn-proto"}},
	{"messagepack", "MessagePack", []string{"msgpack", "message pack"}},
	{"flatbuffers", "FlatBuffers", []string{"flatbuffer", "flatbuf"}},
	{"cbor", "CBOR", nil},
	{"bson", "BSON", nil},
	{"ubjson", "UBJSON", []string{"universal binary json"}},
	{"smile", "Smile", nil},
	{"ion", "Amazon Ion", []string{"amazon ion"}},
	{"sbe", "Simple Binary Encoding", []string{"simple binary encoding"}},
	{"asn.1", "ASN.1", []string{"asn1", "ber", "der"}},
	{"hessian", "Hessian", nil},
	{"kryo", "Kryo", nil},
	{"bond", "Bond", []string{"microsoft bond"}},
	{"corba", "CORBA", []string{"iiop", "giop"}},
}

var (
	languageIDs   = aliasIndex(languages, func(l language) (string, []string) { return l.id, l.aliases })
	languageNames = nameIndex(languages, func(l language) (string, string) { return l.id, l.name })
	formatIDs     = aliasIndex(wireFormats, func(f wireFormat) (string, []string) { return f.id, f.aliases })
	formatNames   = nameIndex(wireFormats, func(f wireFormat) (string, string) { return f.id, f.name })
)

func aliasIndex[T any](items []T, get func(T) (string, []string)) map[string]string {
	m := map[string]string{}
	for _, it := range items {
		id, aliases := get(it)
		m[id] = id
		for _, a := range aliases {
			m[a] = id
		}
	}
	return m
}

func nameIndex[T any](items []T, get func(T) (string, string)) map[string]string {
	m := map[string]string{}
	for _, it := range items {
		id, name := get(it)
		m[id] = name
	}
	return m
}

// trimVersion splits a trailing version off a name ("python3", "java 17", "proto3") so the
// version never makes the same language count twice. It is the first group of
// ^(.*?)[ -]?v?[0-9]+(\.[0-9]+)*$ (the tests hold it to that regexp), written out because
// Evaluate normalizes every logged name on every /path status and the regexp cost more than
// all the rest. ok is false when name does not end in a version.
func trimVersion(name string) (rest string, ok bool) {
	isDigit := func(c byte) bool { return '0' <= c && c <= '9' }
	// The regexp's . does not match a newline, so no such name matches at all.
	if name == "" || !isDigit(name[len(name)-1]) || strings.IndexByte(name, '\n') >= 0 {
		return "", false
	}
	// The longest trailing run of digits with single dots between them is the version; the
	// shortest (.*?) leaves it all to the version.
	start := len(name) - 1
	for start > 0 {
		c := name[start-1]
		if isDigit(c) || (c == '.' && start > 1 && isDigit(name[start-2])) {
			start--
			continue
		}
		break
	}
	if start > 0 && name[start-1] == 'v' {
		start--
	}
	if start > 0 && (name[start-1] == ' ' || name[start-1] == '-') {
		start--
	}
	return name[:start], true
}

// lookup finds key in index directly or once its version is dropped.
func lookup(index map[string]string, key string) (string, bool) {
	if id, ok := index[key]; ok {
		return id, true
	}
	if name, ok := trimVersion(key); ok && name != "" {
		id, ok := index[name]
		return id, ok
	}
	return "", false
}

// collapseSpaces is strings.Join(strings.Fields(s), " ") without allocating for the usual name,
// which has no whitespace but single spaces between words.
func collapseSpaces(s string) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		// Non-ASCII may be Unicode whitespace, and ASCII other than ' ' is whitespace when
		// it is one of \t \n \v \f \r.
		extra := c >= utf8.RuneSelf || ('\t' <= c && c <= '\r') ||
			(c == ' ' && (i == 0 || i == len(s)-1 || s[i-1] == ' '))
		if extra {
			return strings.Join(strings.Fields(s), " ")
		}
	}
	return s
}

// canonicalName lower-cases s and collapses its spaces, and refuses names too empty or too long
// to be a name.
func canonicalName(s, what, example string) (string, error) {
	key := strings.ToLower(collapseSpaces(s))
	switch {
	case key == "":
		return "", fmt.Errorf("name a %s, e.g. %s", what, example)
	case utf8.RuneCountInString(key) > maxNameLen:
		return "", fmt.Errorf("%q is too long for a %s name (at most %d characters)", s, what, maxNameLen)
	}
	return key, nil
}

// NormalizeLanguage maps the names people use for a programming language to one id ("Golang"
// and "go" are both "go", "c++" is "cpp", "js" is "javascript") so that one language is never
// counted as two. Languages it does not know are accepted, lower-cased.
func NormalizeLanguage(s string) (string, error) {
	key, err := canonicalName(s, "programming language", "Go")
	if err != nil {
		return "", err
	}
	if id, ok := lookup(languageIDs, key); ok {
		return id, nil
	}
	if notLanguages[key] {
		return "", fmt.Errorf("%s is a data or markup format, not a programming language a service is built in", strings.TrimSpace(s))
	}
	return key, nil
}

// KnownLanguage reports whether s names a language pathbot knows by name, as opposed to one
// NormalizeLanguage merely accepts. The parser uses it to tell "go python" (two languages) from
// "visual basic" (one).
func KnownLanguage(s string) bool {
	key, err := canonicalName(s, "programming language", "Go")
	if err != nil {
		return false
	}
	_, ok := lookup(languageIDs, key)
	return ok
}

// LanguageName is how the bot writes a normalized language id: "cpp" is "C++". Unknown ids are
// returned as they are.
func LanguageName(id string) string {
	if name, ok := languageNames[id]; ok {
		return name
	}
	return id
}

// ErrJSONOrXML is matched (with errors.Is) by NormalizeWireFormat's error for formats that are
// JSON or XML underneath, which the wire-format milestone excludes.
var ErrJSONOrXML = errors.New("JSON and XML don't count for the wire-format milestone")

// refusedFormat keeps the user-facing message to one line while still matching ErrJSONOrXML.
type refusedFormat struct{ msg string }

func (e *refusedFormat) Error() string        { return e.msg }
func (e *refusedFormat) Is(target error) bool { return target == ErrJSONOrXML }

const beyondText = "a text format like the ones the milestone asks you to go beyond; try protobuf, Thrift, Avro, MessagePack or Cap'n Proto"

// xmlFamily are formats that are XML on the wire without saying so in their name.
var xmlFamily = map[string]bool{"soap": true, "wsdl": true, "rss": true, "atom": true, "xhtml": true}

// jsonFamily are protocols whose payloads are JSON without saying so in their name.
var jsonFamily = map[string]bool{"graphql": true, "rest": true, "hal": true, "odata": true}

// NormalizeWireFormat maps the names of a wire format to one id ("proto" and "gRPC" are
// "protobuf", "msgpack" is "messagepack"). JSON, XML and formats built on them (ndjson, JSON-RPC,
// SOAP, GraphQL, ...) are refused with a one-line reason wrapping ErrJSONOrXML, because the
// milestone is about going beyond them. Other formats it does not know are accepted,
// lower-cased.
func NormalizeWireFormat(s string) (string, error) {
	key, err := canonicalName(s, "wire format", "protobuf")
	if err != nil {
		return "", err
	}
	if id, ok := lookup(formatIDs, key); ok {
		return id, nil
	}
	given := collapseSpaces(s)
	switch {
	case key == "json":
		return "", &refusedFormat{"JSON is " + beyondText}
	case key == "xml":
		return "", &refusedFormat{"XML is " + beyondText}
	case strings.Contains(key, "json") || jsonFamily[key]:
		return "", &refusedFormat{given + " is JSON underneath, " + beyondText}
	case strings.Contains(key, "xml") || xmlFamily[key]:
		return "", &refusedFormat{given + " is XML underneath, " + beyondText}
	}
	return key, nil
}

// WireFormatName is how the bot writes a normalized wire-format id: "protobuf" is "Protocol
// Buffers". Unknown ids are returned as they are.
func WireFormatName(id string) string {
	if name, ok := formatNames[id]; ok {
		return name
	}
	return id
}
