// Tests of cask::queue (issue 4): being written.
