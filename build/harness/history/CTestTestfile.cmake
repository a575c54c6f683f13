# CMake generated Testfile for 
# Source directory: /work/main/harness/history
# Build directory: /work/main/build/harness/history
# 
# This file includes the relevant testing commands required for 
# testing this directory and lists subdirectories to be tested as well.
include("/work/main/build/harness/history/history_test[1]_include.cmake")
