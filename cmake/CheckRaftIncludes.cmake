# Fails when a file of src/raft includes a header that does I/O, threads or reads a clock
# (STYLE.md rule 1). Run by the check_raft_includes target on every build.
file(GLOB_RECURSE files ${RAFT_DIR}/*.h ${RAFT_DIR}/*.cc)
set(forbidden
  "boost/" "asio" "<thread>" "<mutex>" "<shared_mutex>" "<condition_variable>" "<future>"
  "<atomic>" "<fstream>" "<iostream>" "<filesystem>" "<chrono>" "<ctime>" "<random>"
  "<unistd.h>" "<fcntl.h>" "<sys/" "<pthread.h>" "<cstdio>" "spdlog")
set(failed "")
foreach(f ${files})
  if(f MATCHES "_test\\.cc$")
    continue()
  endif()
  file(STRINGS ${f} lines REGEX "^[ \t]*#[ \t]*include")
  foreach(line ${lines})
    foreach(bad ${forbidden})
      string(FIND "${line}" "${bad}" pos)
      if(NOT pos EQUAL -1)
        list(APPEND failed "${f}: ${line}")
      endif()
    endforeach()
  endforeach()
endforeach()
if(failed)
  list(JOIN failed "\n  " msg)
  message(FATAL_ERROR "src/raft must not include I/O, thread or clock headers:\n  ${msg}")
endif()
