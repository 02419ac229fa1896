// Flow Designer front-end behaviour. No inline scripts (strict CSP): everything hooks in from here.
