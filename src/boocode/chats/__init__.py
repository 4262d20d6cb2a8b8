"""Chat management: the paged, searchable chat list; rename, archive and delete."""
