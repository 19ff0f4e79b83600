package names

// SearchKeys are the phonetic keys under which a written name must also be
// found, beyond the keys of its words (Key of each of Tokens), so that a
// search can be as lenient as Compare:
//
//   - a word written in a script that drops the inherent vowel, with every
//     inherent vowel kept, and with all but a final one (जवहर → javahara,
//     javahar; Compare reads it these ways too);
//   - every two neighbouring words written as one, soft words included
//     ("Arun Kumar" → arunkumar, met by "अरुणकुमार"; Compare joins them too).
//
// An index adds them to the name's phonetic terms, and a query asks for
// them: either side written joined or split then meets the other. Keys are
// distinct, in order of appearance; at most maxTokens words of each name
// count.
func SearchKeys(name string) []string {
	var tokArr [24]tok
	var nameArr [4]nameSpan
	toks, names := parse(name, false, tokArr[:0], nameArr[:0])
	var out []string
	add := func(fold string) {
		if len(fold) < 2 {
			return
		}
		k := lists.key(fold)
		for _, o := range out {
			if o == k {
				return
			}
		}
		out = append(out, k)
	}
	if len(names) > maxNames {
		names = names[:maxNames]
	}
	for _, ns := range names {
		all := ns.alls(toks)
		if len(all) > maxTokens {
			all = all[:maxTokens]
		}
		for i := range all {
			t := &all[i]
			if t.full != "" && !t.drop {
				add(t.full)
				if n := len(t.full); n > 2 && t.full[n-1] == 'a' && !isVowel(t.full[n-2]) {
					add(t.full[:n-1]) // the final vowel not written (अरविंद, Aravind)
				}
			}
			if i+1 < len(all) && !t.initial && !all[i+1].initial {
				u := &all[i+1]
				add(t.fold + u.fold)
				if t.full != "" || u.full != "" {
					add(t.fullOr() + u.fullOr())
				}
			}
		}
	}
	return out
}
