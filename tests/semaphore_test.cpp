// Tests of cask::semaphore (issue 4): being written.
