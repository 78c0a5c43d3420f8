"""Tasks and what hangs off them: subtasks, stories, attachments, task search. One module
per concern of the family: `records` (the task factory and how a task joins a project),
`generate`, `serve` (the task routes), `search`, `changes` (the mutation ops), and
`stories` and `attachments`, each whole."""
