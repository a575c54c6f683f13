# CMake generated Testfile for 
# Source directory: /work/main/targets
# Build directory: /work/main/build/targets
# 
# This file includes the relevant testing commands required for 
# testing this directory and lists subdirectories to be tested as well.
subdirs("tidelog")
