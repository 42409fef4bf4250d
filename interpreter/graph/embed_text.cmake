# Writes OUT, a C++ source defining pkt::NAME as the text of IN (a raw string literal).
file(READ ${IN} text)
get_filename_component(name ${IN} NAME)
file(WRITE ${OUT}.tmp "// Generated from ${name} by embed_text.cmake. Do not edit.\nnamespace pkt {\nextern const char* const ${NAME};\nconst char* const ${NAME} = R\"PKTTEXT(${text})PKTTEXT\";\n}\n")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different ${OUT}.tmp ${OUT})
