# CMake generated Testfile for 
# Source directory: /work/main/workloads
# Build directory: /work/main/build/workloads
# 
# This file includes the relevant testing commands required for 
# testing this directory and lists subdirectories to be tested as well.
