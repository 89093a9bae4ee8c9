import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import '@patternfly/react-core/dist/styles/base.css';
import './app.css';
import { Alert } from '@patternfly/react-core';
import { App } from './App';
import { createAuth } from './auth/oidc';
import { EnvError, readEnv } from './env';
import { Shell } from './Shell';
import { followColorScheme } from './theme';

followColorScheme();
const root = createRoot(document.getElementById('root') ?? document.body);

try {
  const env = readEnv();
  root.render(
    <StrictMode>
      <App auth={createAuth(env)} backendURL={env.backendURL} />
    </StrictMode>,
  );
} catch (e) {
  const text = e instanceof EnvError ? e.message : String(e);
  root.render(
    <Shell>
      <Alert component="h2" variant="danger" isInline title="This page is not configured">
        {text}. The billing API writes /env.js from its settings.
      </Alert>
    </Shell>,
  );
}
