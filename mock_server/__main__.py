"""`python -m mock_server serve ...`"""

from mock_server.cli import main

raise SystemExit(main())
