/** A form field's line underneath: the hint, or what saving it gave (the page's refusal or the API's 400 included). */
import { FormHelperText, HelperText, HelperTextItem } from '@patternfly/react-core';

export type Saving = { state: 'idle' } | { state: 'saving' } | { state: 'refused'; message: string } | { state: 'done'; message: string };

export function FieldHelp({ id, saving, hint, errorTestId }: { id: string; saving: Saving; hint: string; errorTestId: string }) {
  return (
    <FormHelperText>
      <HelperText id={id} isLiveRegion>
        {saving.state === 'refused' ? (
          <HelperTextItem variant="error" data-testid={errorTestId}>
            {saving.message}
          </HelperTextItem>
        ) : saving.state === 'done' ? (
          <HelperTextItem variant="success">{saving.message}</HelperTextItem>
        ) : (
          <HelperTextItem>{hint}</HelperTextItem>
        )}
      </HelperText>
    </FormHelperText>
  );
}
