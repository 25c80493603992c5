# `cmake --install`: bin/nds, the systemd unit, bash completion and the operator docs
# (docs/operations.md "Installing"). The binary looks for bundled libraries in ../lib first, so
# that `make dist`'s tarball (scripts/make-dist) runs where it is unpacked.
include(GNUInstallDirs)
if(TARGET nds)
  set_target_properties(nds PROPERTIES INSTALL_RPATH "$ORIGIN/../lib")
  # DT_RPATH rather than DT_RUNPATH: it also serves the bundled libraries' own dependencies
  # (RocksDB's compression libraries).
  target_link_options(nds PRIVATE -Wl,--disable-new-dtags)
  install(TARGETS nds RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
install(FILES ${CMAKE_SOURCE_DIR}/packaging/nds.service DESTINATION lib/systemd/system)
install(FILES ${CMAKE_SOURCE_DIR}/packaging/nds.bash-completion
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME nds)
install(FILES ${CMAKE_SOURCE_DIR}/README.md ${CMAKE_SOURCE_DIR}/docs/operations.md
              ${CMAKE_SOURCE_DIR}/docs/cli.md ${CMAKE_SOURCE_DIR}/docs/api.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR})
# The man page, generated from the installed binary's --help (scripts/make-man).
if(TARGET nds)
  install(CODE "
    set(man_dir \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_MANDIR}/man1\")
    file(MAKE_DIRECTORY \"\${man_dir}\")
    execute_process(COMMAND ${CMAKE_SOURCE_DIR}/scripts/make-man $<TARGET_FILE:nds>
                    OUTPUT_FILE \"\${man_dir}/nds.1\" RESULT_VARIABLE man_result)
    if(NOT man_result EQUAL 0)
      message(FATAL_ERROR \"scripts/make-man failed: \${man_result}\")
    endif()
    message(STATUS \"Installing: \${man_dir}/nds.1\")")
endif()
