# FindLibrsync: librsync ships no pkg-config file.
# Defines Librsync::Librsync and Librsync_FOUND.
find_path(Librsync_INCLUDE_DIR NAMES librsync.h)
find_library(Librsync_LIBRARY NAMES rsync)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(Librsync
  REQUIRED_VARS Librsync_LIBRARY Librsync_INCLUDE_DIR)
if(Librsync_FOUND AND NOT TARGET Librsync::Librsync)
  add_library(Librsync::Librsync UNKNOWN IMPORTED)
  set_target_properties(Librsync::Librsync PROPERTIES
    IMPORTED_LOCATION "${Librsync_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${Librsync_INCLUDE_DIR}")
endif()
mark_as_advanced(Librsync_INCLUDE_DIR Librsync_LIBRARY)
