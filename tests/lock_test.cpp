// Tests of cask::lock (issue 4): being written.
