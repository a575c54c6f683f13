# CMake generated Testfile for 
# Source directory: /work/main/checkers
# Build directory: /work/main/build/checkers
# 
# This file includes the relevant testing commands required for 
# testing this directory and lists subdirectories to be tested as well.
subdirs("log")
