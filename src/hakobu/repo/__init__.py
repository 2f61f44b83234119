"""Git, and the only package that imports pygit2: open a repository, resolve revisions,
read trees and the work tree's changes, commit, fetch and push."""
