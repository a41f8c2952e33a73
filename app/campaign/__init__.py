"""Campaign workflows: phases, roster and ideas, offline entry, measures, evaluation, print."""
