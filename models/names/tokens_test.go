package names

import (
	"reflect"
	"testing"
)

func TestTokens(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		why  string
	}{
		{"Rahul Kumar", []string{"rahul"}, "Kumar follows a given name"},
		{"Kumar Rahul", []string{"rahul"}, "... or precedes it"},
		{"Kumar", []string{"kumar"}, "soft word alone is the name"},
		{"Km. Anjali", []string{"anjali"}, "Km = Kumari, a title"},
		{"Smt. Sunita Devi", []string{"sunita"}, "title and soft word"},
		{"Devi", []string{"devi"}, "Devi alone is a name"},
		{"Baby Pooja", []string{"pooja"}, ""},
		{"Baby", []string{"baby"}, ""},
		{"Mst. Rubina Khatun", []string{"rubina"}, ""},
		{"Shri Rahul", []string{"rahul"}, ""},
		{"Master Aman", []string{"aman"}, ""},
		{"Rahul s/o Ramesh", []string{"rahul"}, "relation ends the child's name"},
		{"Pinki D/O Raju", []string{"pinki"}, ""},
		{"B/o Rekha", []string{"rekha"}, "relation first: the parent's name stays"},
		{"Baby of Rekha", []string{"rekha"}, ""},
		{"R.K. Verma", []string{"r", "k", "verma"}, "initials"},
		{"RK Verma", []string{"r", "k", "verma"}, "initials written together"},
		{"Md. Salim", []string{"md", "salim"}, "Md is Mohammad, not initials"},
		{"Sk Aslam", []string{"sk", "aslam"}, "Sk is Shaikh"},
		{"Hetalben", []string{"hetal"}, "courtesy suffix"},
		{"Rameshbhai Patel", []string{"ramesh", "patel"}, ""},
		{"Raju urf Rajkumar", []string{"raju", "rajkumar"}, "aliases"},
		{"Pappu @ Vikas", []string{"pappu", "vikas"}, ""},
		{"Unknown Boy", nil, "nothing identifies"},
		{"Lawaris", nil, ""},
		{"कुमारी अंजलि", []string{"anjali"}, "title in Devanagari"},
		{"राजू उर्फ़ राजकुमार", []string{"raju", "rajkumar"}, "alias word in Devanagari"},
		{"", nil, ""},
	} {
		if got := Tokens(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Tokens(%q) = %q, want %q (%s)", tc.in, got, tc.want, tc.why)
		}
	}
}

func TestAliases(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"Raju urf Rajkumar", []string{"Raju", "Rajkumar"}},
		{"Pappu @ Vikas Kumar", []string{"Pappu", "Vikas Kumar"}},
		{"Golu alias Gaurav Sharma", []string{"Golu", "Gaurav Sharma"}},
		{"  Rahul  ", []string{"Rahul"}},
		{"", nil},
		{"Unknown", nil},
	} {
		if got := Aliases(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Aliases(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
