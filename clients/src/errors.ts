// What a front end does with each code of the API's one ErrorCode enum. The switch is
// exhaustive: a code added to the schema fails `tsc` here until someone decides how the
// front end reacts to it.
import type { ErrorCode } from './gql/graphql.js';

/** How the user interface reacts to an error code. */
export type Reaction =
  | 'fix-input' // show the message at the input named by `field`
  | 'confirm' // ask the user to confirm or choose, then send again
  | 'log-in' // the session is gone or not strong enough: log in or re-authenticate
  | 'wait' // try again later (Retry-After, expiry, pending work)
  | 'nothing-to-do' // tell the user; there is nothing to send again
  | 'bug'; // the client sent something it should never send: report it

function assertNever(value: never): never {
  throw new Error(`unhandled error code: ${String(value)}`);
}

export function reactionTo(code: ErrorCode): Reaction {
  switch (code) {
    case 'AMOUNT_NOT_WHOLE_EUROS':
    case 'AMOUNT_OUT_OF_RANGE':
    case 'BELOW_LAST_READING':
    case 'CODE_FORMAT_INVALID':
    case 'CODE_INVALID':
    case 'COUNTRY_INVALID':
    case 'DATE_OUT_OF_RANGE':
    case 'EMAIL_INVALID':
    case 'EMAIL_IN_USE':
    case 'IBAN_CHECKSUM':
    case 'IBAN_INVALID':
    case 'IBAN_NOT_SEPA':
    case 'INVALID_CREDENTIALS':
    case 'NOT_AN_AMOUNT':
    case 'PASSWORD_CHARACTER_CLASSES_MISSING':
    case 'PASSWORD_CONTAINS_PERSONAL_DATA':
    case 'PASSWORD_TOO_COMMON':
    case 'PASSWORD_TOO_LONG':
    case 'PASSWORD_TOO_SHORT':
    case 'PHONE_INVALID':
    case 'PHOTO_NOT_AN_IMAGE':
    case 'PHOTO_TOO_LARGE':
    case 'PHOTO_TOO_MANY_PIXELS':
    case 'PIN_INVALID':
    case 'POSTAL_CODE_INVALID':
    case 'PROOF_REQUIRED':
    case 'REQUIRED':
    case 'TOO_LONG':
    case 'VALUE_INVALID':
    case 'CUSTOMER_NOT_VERIFIED':
    case 'CUSTOMER_NUMBER_TAKEN':
    case 'NOT_FOUND':
    case 'PASSKEY_MALFORMED':
    case 'PASSKEY_REJECTED':
    case 'PASSKEY_UNKNOWN':
      return 'fix-input';
    case 'CHOICE_REQUIRED':
    case 'UNUSUAL_CONSUMPTION':
    case 'MANDATE_NOT_ACCEPTED':
      return 'confirm';
    case 'UNAUTHENTICATED':
    case 'CSRF_TOKEN_INVALID':
    case 'LOGIN_NOT_CONFIRMED':
    case 'REAUTHENTICATION_REQUIRED':
    case 'SECOND_FACTOR_REQUIRED':
      return 'log-in';
    case 'BUSY':
    case 'RATE_LIMITED':
    case 'REQUEST_TIMEOUT':
    case 'SERVICE_UNAVAILABLE':
    case 'RESEND_NOT_YET_AVAILABLE':
    case 'REGISTRATION_PENDING':
    case 'REQUEST_PENDING':
    case 'CHALLENGE_EXPIRED':
    case 'CHANGE_EXPIRED':
    case 'ENROLMENT_EXPIRED':
    case 'LINK_EXPIRED':
    case 'PIN_EXPIRED':
    case 'PIN_VOID':
      return 'wait';
    case 'ALREADY_ADDED':
    case 'ALREADY_ENROLLED':
    case 'CHANGE_ALREADY_CONFIRMED':
    case 'CHANGE_OUTDATED':
    case 'CUSTOMER_CLOSED':
    case 'LAST_CUSTOMER_NUMBER':
    case 'DOWNLOAD_LINK_INVALID':
    case 'LINK_INVALID':
    case 'METER_REMOVED':
    case 'MOVE_OUT_ALREADY_REPORTED':
    case 'NOTHING_CHANGED':
    case 'NOT_ALLOWED_FOR_TRANSFER':
    case 'NOT_PENDING':
    case 'NO_ANNUAL_BILL':
    case 'NO_DUE_DATE':
    case 'NO_MOVE_OUT':
    case 'NO_SECOND_FACTOR':
    case 'OUTSIDE_FINAL_READING_WINDOW':
    case 'OUTSIDE_READING_PERIOD':
    case 'PASSKEY_LIMIT_REACHED':
    case 'RADIO_METER':
      return 'nothing-to-do';
    case 'BAD_REQUEST':
    case 'BAD_USER_INPUT':
    case 'FREE_DOCUMENTS_DISABLED':
    case 'GRAPHQL_PARSE_FAILED':
    case 'GRAPHQL_VALIDATION_FAILED':
    case 'IDEMPOTENCY_KEY_REUSED':
    case 'INTERNAL_SERVER_ERROR':
    case 'INVALID_API_KEY':
    case 'INVALID_CURSOR':
    case 'INVALID_PAGE':
    case 'METHOD_NOT_ALLOWED':
    case 'NOT_ACCEPTABLE':
    case 'OPERATION_NOT_ALLOWED':
    case 'OPERATION_TOO_COSTLY':
    case 'PERSISTED_DOCUMENT_NOT_FOUND':
    case 'PERSISTED_QUERY_HASH_MISMATCH':
    case 'PERSISTED_QUERY_INVALID':
    case 'PERSISTED_QUERY_NOT_FOUND':
    case 'REQUEST_TOO_LARGE':
    case 'TOO_MANY_IDS':
    case 'UNSUPPORTED_MEDIA_TYPE':
      return 'bug';
    default:
      return assertNever(code);
  }
}
