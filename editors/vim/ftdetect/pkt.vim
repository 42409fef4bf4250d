" Vim file type detection for pkt scripts (*.pkt), the packet DSL of pkt.
autocmd BufNewFile,BufRead *.pkt setfiletype pkt
