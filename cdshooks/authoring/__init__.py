"""Tools for the people who write policies: reading a policy's text into numbered items (`lint --source`,
`new-policy`) and deriving test patients from existing ones (`fixtures new`). Used by the command line only;
may import `policy/` and the fixtures, never the web service.
"""
