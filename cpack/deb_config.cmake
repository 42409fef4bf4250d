# Read by cpack (CPACK_PROJECT_CONFIG_FILE) for each generator. CPackDeb
# leaves Depends empty, with only a note, when dpkg-shlibdeps is missing: a
# package that installs anywhere and then fails to start. Refuse instead.
if(CPACK_GENERATOR STREQUAL "DEB")
  find_program(PKT_DPKG_SHLIBDEPS dpkg-shlibdeps)
  if(NOT PKT_DPKG_SHLIBDEPS)
    message(FATAL_ERROR "pkt: building the .deb needs dpkg-shlibdeps to fill in Depends: apt-get install dpkg-dev")
  endif()
endif()
