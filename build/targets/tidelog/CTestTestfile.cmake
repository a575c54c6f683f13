# CMake generated Testfile for 
# Source directory: /work/main/targets/tidelog
# Build directory: /work/main/build/targets/tidelog
# 
# This file includes the relevant testing commands required for 
# testing this directory and lists subdirectories to be tested as well.
