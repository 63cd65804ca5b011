from dataplatform.cli import main

raise SystemExit(main())
