" Vim syntax file
" Language:    pkt (the packet DSL of pkt; docs/language.md)
" Filenames:   *.pkt
" Keywords follow grammar/rules.hpp. A word that is a keyword elsewhere is a
" field name before ':' and an argument name before '=' (`count : u8`,
" `tcp(flags=SYN)`), so keywords are matches, not `syn keyword`s.
" lua { } blocks are highlighted with Vim's own Lua syntax.

if exists('b:current_syntax')
  finish
endif

let s:cpo_save = &cpo
set cpo&vim

" Lua first: syntax/lua.vim sets b:current_syntax, which is reset after.
syn include @pktLua syntax/lua.vim
unlet! b:current_syntax
" Included, lua.vim's matches for a stray ')' or '}' win over the end of its
" own parentheses and of the block: without them, `print("x")` closes.
syn clear luaParenError
syn clear luaError

" Identifiers and calls (defined first: what follows wins at the same column).
syn match pktIdentifier /\<\h\w*\>/
syn match pktConstant /\<\u[A-Z0-9_]*\>/
syn match pktCall /\<\h\w*\ze\s*(/
syn match pktParam /\<\h\w*\ze\s*=\%([=]\)\@!/
syn match pktMember /\.\s*\zs\h\w*/
syn match pktBuiltinVar /\<\%(this\|upper\)\>/

" Operators and punctuation.
syn match pktOperator /->\|\.\.\.\?\|[=!<>]=\|[<>=\/|*+&-]/

" Keywords: statements, then the words of clauses and rules.
syn match pktStatement /\<\%(param\|let\|packet\|layer\|option\|bind\|reply\|fragment\|show\|hexdump\|write\|send\|sr\|sniff\|lua\)\>\%(\s*[:=(]\)\@!/
syn match pktKeyword /\<\%(to\|count\|interval\|rate\|on\|threads\|bypass\|filter\|timeout\|retry\|auto\|enum\|flags\|align\|pseudo\|size\|if\|until\|payload\|summary\|aka\|wireshark\|when\|with\|quoted\|quotes\|sent\|strict\|padded\)\>\%(\s*[:=(]\)\@!/
syn match pktLogical /\<\%(and\|or\|not\|in\)\>\%(\s*[:=(]\)\@!/

" Names being declared: packet/let/param NAME, layer/reply/bind/option/fragment LAYER.
syn match pktDefinition /\%(\<\%(param\|let\|packet\)\s\+\)\@<=\h\w*/
syn match pktLayerName /\%(\<\%(layer\|reply\|bind\|option\|fragment\)\s\+\)\@<=\h\w*\%(\s*(\)\@!/

" NAME : TYPE in a layer or option block.
syn match pktField /\%([[:alnum:]_.:]\)\@<!\h\w*\s*:\s*\h\w*\%(\[\]\)\=/ contains=pktFieldName,pktType
syn match pktFieldName /\h\w*\ze\s*:/ contained
syn match pktType /:\s*\zs\h\w*\%(\[\]\)\=/ contained

" Numbers, addresses, durations and rates (later wins at the same column).
syn match pktNumber /\<\d\+\%(\.\d\+\)*\>/
syn match pktNumber /\<0[xX]\x\+\>/
syn match pktNumber /\<0[bB][01]\+\>/
syn match pktIPv4 /\<\d\{1,3}\%(\.\d\{1,3}\)\{3}\>\%(\.\d\)\@!/
syn match pktIPv6 /\%([[:alnum:]_:.]\)\@<!\%(\x\{0,4}:\)\{2,7}\%(\d\{1,3}\%(\.\d\{1,3}\)\{3}\|\x\{1,4}\)\=\%([[:alnum:]_:]\)\@!/
syn match pktMAC /\%([[:alnum:]_:.]\)\@<!\x\x\%(:\x\x\)\{5}\%([[:alnum:]_:]\)\@!/
syn match pktDuration /\<\d\+\%(ns\|us\|ms\|s\)\>/
syn match pktRate /\<\d\+\%(\.\d\+\)\=\%(pps\|kpps\|Mpps\|Gpps\|bit\|kbit\|Mbit\|Gbit\)\>/

" Strings: plain (one line), hex"..", base64"..", file("path").
syn region pktString matchgroup=pktStringDelimiter start=/"/ skip=/\\./ end=/"\|$/ oneline contains=pktEscape,pktPlaceholder,@Spell
syn match pktEscape /\\\%(x\x\x\|.\)/ contained
syn match pktPlaceholder /{\h[[:alnum:]_.]*}/ contained
syn region pktHexString matchgroup=pktEncoding start=/\<hex"/ end=/"/ contains=pktHexByte,pktHexError
syn match pktHexByte /\x\x/ contained
syn match pktHexError /[^[:space:]"[:xdigit:]]/ contained
syn region pktBase64String matchgroup=pktEncoding start=/\<base64"/ end=/"/ contains=pktBase64Error
syn match pktBase64Error /[^[:space:]"[:alnum:]+\/=]/ contained
syn match pktEncoding /\<file\ze\s*(/

" enum { name = value, ... } and flags { NAME = bit, ... }.
syn region pktEnum matchgroup=pktKeyword start=/\<\%(enum\|flags\)\s*{/ end=/}/ contains=pktEnumName,pktNumber,pktOperator,pktComment,pktString
syn match pktEnumName /\<\h\w*\ze\s*=/ contained

" lua { ... }: Lua's table braces nest inside (syntax/lua.vim's luaTableBlock).
syn region pktLua matchgroup=pktStatement start=/\<lua\s*{/ end=/}/ contains=@pktLua

syn keyword pktTodo TODO FIXME XXX NOTE contained
syn match pktComment /#.*$/ contains=pktTodo,@Spell

syn sync minlines=200

hi def link pktComment Comment
hi def link pktTodo Todo
hi def link pktStatement Statement
hi def link pktKeyword Keyword
hi def link pktLogical Operator
hi def link pktOperator Operator
hi def link pktString String
hi def link pktStringDelimiter String
hi def link pktHexString String
hi def link pktBase64String String
hi def link pktHexByte String
hi def link pktEscape SpecialChar
hi def link pktPlaceholder Special
hi def link pktEncoding Type
hi def link pktHexError Error
hi def link pktBase64Error Error
hi def link pktNumber Number
hi def link pktIPv4 Constant
hi def link pktIPv6 Constant
hi def link pktMAC Constant
hi def link pktDuration Number
hi def link pktRate Number
hi def link pktCall Function
hi def link pktParam Identifier
hi def link pktMember Identifier
hi def link pktFieldName Identifier
hi def link pktType Type
hi def link pktDefinition Identifier
hi def link pktLayerName Type
hi def link pktConstant Constant
hi def link pktEnumName Constant
hi def link pktBuiltinVar Special

let b:current_syntax = 'pkt'

let &cpo = s:cpo_save
unlet s:cpo_save
