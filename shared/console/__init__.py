"""The web console served by the function app: who is signed in (auth), the pages (pages, review), their
templates and static files."""
