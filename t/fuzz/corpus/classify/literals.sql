SELECT E'it\'s', $tag$ body $$ $tag$, U&'d\0061t' UESCAPE '!', B'01', X'ff', 'a'
'continued'